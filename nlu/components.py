"""Custom Rasa NLU components. Each is a thin shell: the real work is in a pure helper."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import langid

LANGUAGE = "language"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class LanguageIdentifier(GraphComponent):
    """Puts `{"language", "confidence", "supported", "method"}` on every parsed message.

    The hub decides the language once and sends it as `metadata.language`; that decision is
    taken as it is (method "hub") and nothing is detected a second time. Only a message that
    comes without it (Rasa's own REST channel, `rasa test`) is identified here, with the hints
    in `metadata.language_hints` if any; the detector's models are then loaded on first use.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # the metadata key of the language the hub decided for this message
            "language_key": "language",
            # the metadata key of hints (in order of strength) for messages without a decision
            "hints_key": "language_hints",
            # load the detector's models at start (about 300 MiB) rather than on the first
            # message that comes without the hub's decision
            "warm_up": False,
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        self._language_key = config.get("language_key", "language")
        self._hints_key = config["hints_key"]
        if config.get("warm_up"):
            langid.warm_up()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageIdentifier:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            metadata = message.get(METADATA) or {}
            hints = metadata.get(self._hints_key) if isinstance(metadata, dict) else None
            if not isinstance(hints, list):
                hints = []
            hints = [h for h in hints if isinstance(h, str)]
            decided = metadata.get(self._language_key) if isinstance(metadata, dict) else None
            if isinstance(decided, str) and decided:
                found = langid.Detection(language=decided, confidence=1.0, method="hub")
                continued = decided
            else:
                found = langid.detect(text, hints)
                previous = langid.normalise_hint(hints[0]) if hints else None
                continued = langid.conversation_language(previous, found, langid.word_count(text))
            message.set(
                LANGUAGE,
                {
                    "language": found.language,
                    "confidence": found.confidence,
                    "supported": found.supported,
                    "method": found.method,
                },
                add_to_output=True,
            )
            if continued != langid.UNDETERMINED:
                # As an entity, the conversation language fills the `language` slot that
                # chooses the response catalogue (domain.yml); "und" leaves the slot as it was.
                entities = list(message.get(ENTITIES) or [])
                entities.append(
                    {
                        "entity": LANGUAGE,
                        "value": continued,
                        "start": 0,
                        "end": len(text),
                        "confidence_entity": found.confidence,
                        "extractor": type(self).__name__,
                    }
                )
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


# Arabic chat spelling varies in hamza seats, taa marbuta, alef maqsura and Persian letter
# forms; the usual normalisation for Arabic text classification folds them together.
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ئ": "ي", "ؤ": "و",
    "ی": "ي", "ک": "ك", "ـ": None,
})
_REPEATED = re.compile(r"(.)\1{2,}")


def fold(text: str) -> str:
    """Lower case without diacritics: 'Työttömyys' → 'tyottomyys', 'på' → 'pa', 'شكراااا' → 'شكرا'.

    Cyrillic letters keep their identity ('й' survives because NFC recomposes it); Arabic
    harakat are dropped and letter variants folded.
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(
        ch for ch in decomposed
        if not (unicodedata.combining(ch) and not _keeps_mark(ch))
    )
    folded = unicodedata.normalize("NFC", stripped).translate(_ARABIC_FOLD)
    return _REPEATED.sub(r"\1", folded)


def _keeps_mark(mark: str) -> bool:
    # U+0306 COMBINING BREVE makes й/ў; U+0308 on Cyrillic makes ё/ї — keep those letters.
    return mark in ("\u0306",)


# Snowball stemmers (PyStemmer) where one exists for the language; Ukrainian has none, so its
# words are lemmatised with pymorphy3's Ukrainian dictionary; Somali keeps its folded words.
_SNOWBALL = {"fi": "finnish", "sv": "swedish", "en": "english", "et": "estonian", "ru": "russian",
             "ar": "arabic"}


@cache
def _snowball(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(_SNOWBALL[language])


@lru_cache(maxsize=1)
def _morph_uk() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The word's stem (or lemma) in `language`, folded like every other token: 'työttömyysturvasta'
    → 'tyottomyysturv', 'сотрудников' → 'сотрудник', 'працівників' → 'працівник'."""
    lower = word.lower()
    if language in _SNOWBALL:
        lower = _snowball(language).stemWord(lower)
    elif language == "uk" and lower.isalpha():
        lower = _morph_uk().parse(lower)[0].normal_form
    return fold(lower)


# A person's age, as customers write it in each tier-1 language: "22-vuotias", "58 v", "en 60-åring",
# "a 24-year-old", "aged 57", "24 aastane", "парня 23 лет", "працівника 57 років", "عمره 58 سنة",
# "wiil 20 jir ah". The age decides between the youth voucher, the 55+ subsidy and Ohjaamo, and a
# word classifier cannot read numbers; the age group becomes a word of its own (AGE_WORDS).
_AGE = re.compile(
    r"(?<!\d)(\d{2})\s?-?\s?(?:v\b|vuotia|vuotias|vee\b|åring|årig|år gammal|years?[- ]old|yrs?[- ]old|y/?o\b|"
    r"aastane|aastased|лет|летн|годовал|рок|річн|سنة|سنه|عام|jir)"
    r"|(?:aged|age|ikä|ålder|vanus|возраст|вік|عمره|عمرها|da'da)\s*:?\s*(\d{2})(?!\d)",
    re.IGNORECASE,
)


def age_word(text: str) -> str | None:
    """The age group a message speaks of, as a word the classifier can learn from, or None."""
    digits = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))
    for match in _AGE.finditer(digits):
        age = int(match.group(1) or match.group(2))
        if 15 <= age <= 79:
            return "ageunder18" if age < 18 else "age18to29" if age < 30 else "age30to54" if age < 55 else "age55plus"
    return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class Stemmer(GraphComponent):
    """Folds case and diacritics ("tyottomyysturva" meets "työttömyysturva": customers type Finnish,
    Swedish and Estonian on phones without ä/ö/å/õ) and gives each token two forms for the count
    vectorizers: its folded surface form as `text`
    (read by the character n-grams, which keep endings and typos) and its folded stem as `lemma`
    (read by the word n-grams, so 'irtisanoa', 'irtisanomaan' and 'irtisanomiset' are one word).
    A person's age in the message adds one word for the word n-grams: its age group (`age_word`).

    The stemmer follows the message's language: the hub's decision, or the detector's for
    training examples and messages that come without one.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Stemmer:
        return cls()

    @staticmethod
    def _language(message: Message) -> str:
        found = message.get(LANGUAGE)
        if isinstance(found, dict) and isinstance(found.get("language"), str):
            return str(found["language"])
        return langid.detect(message.get(TEXT) or "", []).language

    def _stem_tokens(self, message: Message) -> None:
        tokens = message.get(f"{TEXT}_tokens") or []
        if not tokens:
            return
        language = self._language(message)
        for token in tokens:
            original = token.text
            token.text = fold(original)
            token.lemma = stem(original, language)
        age = age_word(message.get(TEXT) or "")
        if age is not None and not any(t.lemma == age for t in tokens):
            end = len(message.get(TEXT) or "")
            tokens.append(Token("", end, end, lemma=age))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._stem_tokens(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._stem_tokens(message)
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class TfidfLogisticRegression(LogisticRegressionClassifier):
    """Rasa's logistic regression over the count features re-weighted as TF-IDF (sublinear term
    frequency, rows L2-normalised), with its regularisation as configuration.

    Raw counts let long messages and frequent words dominate; TF-IDF weighs the words that tell
    intents apart. On the held-out and blind sets it was right more often than raw counts at
    every C tried (docs/quality.md).
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0}

    def __init__(self, config: Dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        self.clf = Pipeline([
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
            ("lr", LogisticRegression(C=float(self.config["C"]), solver=self.config["solver"],
                                      max_iter=self.config["max_iter"], class_weight="balanced",
                                      tol=self.config["tol"], random_state=self.config["random_state"])),
        ])

    # The pipeline's TF-IDF step keeps its weights as a SciPy sparse matrix, which skops does not
    # trust by default; that one type is allowed, nothing else (Rasa's own load would silently give
    # an untrained classifier instead).
    TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix"})

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegression:
        import skops.io as sio

        with model_storage.read_from(resource) as model_dir:
            path = model_dir / f"{resource.name}.skops"
            untrusted = sio.get_untrusted_types(file=path)
            unexpected = set(untrusted) - cls.TRUSTED_TYPES
            if unexpected:
                raise ValueError(f"the intent classifier holds unexpected types: {sorted(unexpected)}")
            classifier = sio.load(path, trusted=untrusted)
        component = cls(config, execution_context.node_name, model_storage, resource)
        component.clf = classifier
        return component
