"""Language identification for short chat messages.

Pure module, shared by both runtimes: the hub (Python 3.12) and the Rasa NLU component
(Python 3.10) import it, so it depends only on `lingua` and `langdetect`, never on Rasa or
the hub.

Why not langdetect alone: on one- to three-word chat messages ("kiitos", "ok", "дякую") it is
close to a coin toss and it is not deterministic. The decision here is layered, cheapest and
surest evidence first:

1. no letters at all → `und`;
2. an explicit request ("in English please", "suomeksi") → that language, at once;
3. the writing system (Arabic script, Cyrillic letters unique to Ukrainian or Russian, Han…);
4. a small chat lexicon for one- to three-word messages ("kiitos", "aitäh", "mahadsanid");
5. lingua restricted to the candidate languages, blended with langdetect on longer text;
6. hints (the conversation's language so far, the widget locale, Telegram's `language_code`)
   act as a prior: they decide an ambiguous short message, never override a clear one.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

TIER1: tuple[str, ...] = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")
TIER2: tuple[str, ...] = ("fa", "zh", "vi", "tr", "sq", "ku", "es", "fr", "de", "pl")
# Languages detected beyond tier 2 (answered like tier 2). Kept short on purpose: every extra
# candidate makes short Finnish and Estonian messages easier to mistake.
# Danish, Norwegian and Hungarian are left out: they took short Swedish and Finnish messages.
OTHER: tuple[str, ...] = ("it", "pt", "nl", "hi", "th", "ro", "lt", "lv")
RTL: frozenset[str] = frozenset({"ar", "fa", "ur", "he", "ku_arab"})
UNDETERMINED = "und"

LANGUAGE_NAMES_EN: dict[str, str] = {
    "fi": "Finnish", "sv": "Swedish", "en": "English", "ru": "Russian", "uk": "Ukrainian",
    "et": "Estonian", "ar": "Arabic", "so": "Somali", "fa": "Persian", "zh": "Chinese",
    "vi": "Vietnamese", "tr": "Turkish", "sq": "Albanian", "ku": "Kurdish", "es": "Spanish",
    "fr": "French", "de": "German", "pl": "Polish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "hi": "Hindi", "th": "Thai", "ro": "Romanian", "lt": "Lithuanian",
    "lv": "Latvian", "hu": "Hungarian", "da": "Danish", "nb": "Norwegian",
}


@dataclass(frozen=True)
class Detection:
    """The outcome for one message. `method` says which layer decided (for evaluation)."""

    language: str
    confidence: float
    method: str

    @property
    def supported(self) -> bool:
        return self.language in TIER1


def is_rtl(language: str) -> bool:
    return language in RTL


def normalise_hint(hint: str | None) -> str | None:
    """'fi-FI', 'FI', 'uk_UA', 'nb-NO' → 'fi', 'fi', 'uk', 'nb'; anything unknown → None."""
    if not hint or not isinstance(hint, str):
        return None
    code = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    if code == "no" or code == "nn":
        code = "nb"
    if code in TIER1 or code in TIER2 or code in OTHER:
        return code
    return None


# --- layer 2: explicit requests -------------------------------------------------------------

_EXPLICIT: dict[str, tuple[str, ...]] = {
    "fi": (r"\bsuomeksi\b", r"\bsuomen kiel(?:ell[äa]|i)\b", r"\bin finnish\b", r"\bfinnish please\b",
           r"\bpuhu suomea\b", r"\bна финском\b", r"\bпо-фински\b", r"\bfinska\b", r"\bsoome keeles\b"),
    "sv": (r"\bp[åa] svenska\b", r"\bruotsiksi\b", r"\bin swedish\b", r"\bswedish please\b",
           r"\bsvenska tack\b", r"\bна шведском\b"),
    "en": (r"\bin english\b", r"\benglish please\b", r"\benglanniksi\b", r"\bp[åa] engelska\b",
           r"\bспeak english\b", r"\bspeak english\b", r"\bпо-английски\b", r"\bанглійською\b",
           r"\binglise keeles\b", r"\bبالانجليزي(?:ة)?\b", r"\bbil-?ingiriisi\b", r"\bafka ingiriisiga\b"),
    "ru": (r"по[- ]русски", r"на русском", r"\bvenäjäksi\b", r"\bin russian\b", r"\bp[åa] ryska\b",
           r"\brussian please\b", r"\bvene keeles\b", r"російською"),
    "uk": (r"українською", r"по[- ]українськи", r"на українській", r"по[- ]украински", r"на украинском",
           r"\bukrainaksi\b", r"\bin ukrainian\b", r"\bp[åa] ukrainska\b", r"\bukraina keeles\b"),
    "et": (r"\beesti keeles\b", r"\beesti keelt\b", r"\bviroksi\b", r"\bin estonian\b", r"\bp[åa] estniska\b",
           r"\bна эстонском\b"),
    "ar": (r"بالعربي(?:ة)?", r"باللغة العربية", r"\barabiaksi\b", r"\bin arabic\b", r"\bp[åa] arabiska\b",
           r"\barabic please\b"),
    "so": (r"\baf[- ]?soomaali\b", r"\bsoomaali(?:ga)?\b", r"\bsomaliksi\b", r"\bin somali\b",
           r"\bp[åa] somaliska\b", r"\bsomali please\b"),
}
_EXPLICIT_RE = {lang: re.compile("|".join(pats), re.IGNORECASE) for lang, pats in _EXPLICIT.items()}


# What may stand beside a language's name in a request to switch ("can we speak English please",
# "voisitko vastata suomeksi", "можно по-русски?"): request verbs, pronouns and politeness, in every
# tier-1 language. Anything else makes the name part of a sentence about the language ("I want to
# learn Finnish", "по-фински понимаю мало"), which is content, not a request.
_REQUEST_WORDS = frozenset("""
please pls plz can could would will you we us me i let's lets speak talk answer reply write switch change
to continue now only do in language the a use
kiitos kiitti voitko voisitko voisitteko voimmeko voiko saanko puhu puhua puhutaan puhukaa vastaa
vastaatko vastata vastatkaa kirjoita kirjoittaa kirjoitatko jatketaan vaihda vaihdetaan mieluummin
minulle mulle kanssa ole hyvä
tack snälla kan du vi prata pratar svara skriv skriva fortsätt byt gärna mig hellre
пожалуйста пжл можно давайте говорите говорить ответьте отвечайте ответь напишите пишите напиши
перейдём перейдем продолжим мне со мной на по будь ласка ласка можна говоріть говорити відповідайте
відповідай напишіть пишіть перейдімо продовжимо мені зі мною
palun kas saame saab räägi räägime rääkida vasta vastake kirjuta kirjutage jätkame mulle minuga
من فضلك لو سمحت ممكن تكلم تكلمني تحدث اكتب رد ردوا أجب اجب معي لي
fadlan fadlam ma ii iila ila hadal ku la hadla jawaab iigu qor sii wad
""".split())


def explicit_request(text: str) -> str | None:
    """The language a message explicitly asks for ("in English please", "suomeksi kiitos", "можно
    по-русски?"), else None.

    Only a request counts: the language's name with nothing beside it but request words and
    politeness. A message that merely names a language ("Jag vill lära mig finska", "I study
    Finnish at Omnia") is content, and its own language decides.
    """
    if len(text) > 80:
        return None
    found = [lang for lang, rx in _EXPLICIT_RE.items() if rx.search(text)]
    if len(found) != 1:
        return None
    rest = _EXPLICIT_RE[found[0]].sub(" ", text)
    if all(word in _REQUEST_WORDS for word in _words(rest)):
        return found[0]
    return None


# --- layer 3: scripts -----------------------------------------------------------------------

_UK_ONLY = set("іїєґ")
_RU_ONLY = set("ыэъё")
_PERSIAN_ONLY = set("پچژگکی")  # ی and ک are Persian forms; Arabic uses ي and ك
_URDU_ONLY = set("ٹڈڑںےھ")
_ARABIC_ONLY = set("ةيكى")


def _script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFEFF:
            s = "arabic"
        elif 0x0400 <= o <= 0x04FF:
            s = "cyrillic"
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            s = "han"
        elif 0x3040 <= o <= 0x30FF:
            s = "kana"
        elif 0xAC00 <= o <= 0xD7AF:
            s = "hangul"
        elif 0x0E00 <= o <= 0x0E7F:
            s = "thai"
        elif 0x0900 <= o <= 0x097F:
            s = "devanagari"
        elif 0x0590 <= o <= 0x05FF:
            s = "hebrew"
        elif 0x0370 <= o <= 0x03FF:
            s = "greek"
        elif 0x0530 <= o <= 0x058F:
            s = "armenian"
        elif 0x10A0 <= o <= 0x10FF:
            s = "georgian"
        elif 0x1200 <= o <= 0x137F:
            s = "ethiopic"
        else:
            s = "latin"
        counts[s] = counts.get(s, 0) + 1
    return counts


def _word_script(word: str) -> str:
    """The script a word is written in (its first letter's)."""
    return next(iter(_script_counts(word[:1])), "latin")


# --- layer 4: chat lexicon ------------------------------------------------------------------

# One- to three-word messages made only of these words are decided here. A word listed under
# several languages ("hei" fi/sv, "ok" everywhere) is ambiguous: hints decide, else it is skipped.
_LEXICON: dict[str, str] = {
    "fi": "moi moikka moro hei heippa terve kiitos kiitti kiitoksia kiitokset kiits joo juu kyllä kylla ei "
          "selvä selva okei hyvä hyva huomenta päivää paivaa iltaa näkemiin nakemiin hyvää hyvaa "
          "apua anteeks anteeksi mitä mita miten missä missa milloin kuka tarviin tarvitsen haluun "
          "haluan mä mää sä työ tyo työtä tyota työpaikka tyopaikka rahaa tuki tukea onko voinko "
          "ymmärrä ymmarra jep nähdään nahdaan toki eiku tiedä tieda tiiä tiia okei en aha",
    "sv": "hej hejsan tjena tack tackar tacksam ja nej okej bra hejdå hejda adjö adjo god morgon dag "
          "kväll kvall hjälp hjalp vad hur var när nar vem jobb arbete pengar stöd stod behöver "
          "behover vill jag du förstår forstar inte ursäkta ursakta visst absolut tusen jaha toppen precis va "
          "jättebra jattebra tackar en aha",
    "en": "hi hello hey thanks thank you thx ty yes no okay ok good morning evening bye goodbye please "
          "help what how where when who job work money need want sorry understand sure great cool fine "
          "a cheers thx pls plz nope yep yeah alright got it lot lol see later great awesome u much very",
    "ru": "привет здравствуйте здравствуй спасибо да нет хорошо ладно пока добрый день утро вечер "
          "помогите помощь что как где когда кто работа работу деньги нужно хочу понимаю извините "
          "понятно конечно спс ок большое огромное доброе доброго утра вечера пожалуйста",
    "uk": "привіт вітаю дякую так ні добре гаразд бувай до побачення добрий день ранок вечір допоможіть "
          "допомога що як де коли хто робота роботу гроші потрібно хочу розумію вибачте зрозуміло "
          "звичайно дуже щиро щира щиро дякую красно ласка будь доброго ранку перепрошую",
    "et": "tere tervist aitäh aitah tänan tanan jah ei okei hea hommikust päevast paevast õhtust ohtust "
          "head aega nägemist nagemist abi mida kuidas kus millal kes töö too tööd raha vaja tahan "
          "saan aru vabandust selge muidugi palun tea ei tea ma saa suur tänud tanud väga vaga",
    "ar": "مرحبا السلام عليكم شكرا شكراً نعم لا حسنا تمام مع السلامة صباح الخير مساء مساعدة ماذا كيف "
          "اين أين متى من عمل شغل فلوس مال احتاج أحتاج اريد أريد افهم آسف طيب اهلا أهلا",
    "so": "salaan iska warran see tahay mahadsanid mahadsanidiin haa maya hagaag nabad gelyo subax wanaagsan "
          "galab caawimaad maxaa sidee xaggee goorma yaa shaqo lacag waxaan u baahanahay rabaa fahmay "
          "raali waan ka noqon waa",
    # tier 2: greetings, thanks and yes/no, so that a first "merci" or "cảm ơn" is not guessed
    "de": "hallo danke dankeschön vielen dank ja nein bitte guten tag morgen tschüss entschuldigung",
    "fr": "bonjour salut merci beaucoup oui non d'accord bonsoir au revoir s'il vous plaît plait",
    "es": "hola gracias muchas sí si buenos días dias buenas tardes adiós adios por favor vale",
    "tr": "merhaba teşekkürler tesekkurler teşekkür ederim sağol sagol evet hayır hayir günaydın gunaydin",
    "sq": "përshëndetje pershendetje faleminderit po jo mirëdita miredita",
    "vi": "xin chào chao cảm ơn cam ơn vâng không khong dạ",
    "fa": "ممنون مرسی سلام خیلی نه بله چطور",
    "ku": "silav spas gelek erê ere na roj baş bas",
    "pl": "dzień dobry dziękuję dziekuje tak nie cześć czesc proszę prosze",
}
_LEX: dict[str, frozenset[str]] = {}
for _lang, _words in _LEXICON.items():
    for _w in _words.split():
        _LEX[_w] = _LEX.get(_w, frozenset()) | {_lang}
_AMBIGUOUS_EVERYWHERE = {"ok", "okay", "okei"}

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_NOISE_RE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\S+|[#@]\w+", re.UNICODE)

# Finnish service names that customers mix into any language: they say nothing about the
# language of the message, so they are removed before statistics.
_FINNISH_TERMS = re.compile(
    r"\b(?:palkkatu(?:ki|en|kea)|starttiraha[a-z]*|työmarkkinatori[a-z]*|tyomarkkinatori[a-z]*|"
    r"työttömyyskassa[a-z]*|tyottomyyskassa[a-z]*|työmarkkinatu(?:ki|en)|tyomarkkinatu(?:ki|en)|"
    r"peruspäiväraha[a-z]*|peruspaivaraha[a-z]*|päiväraha\w*|paivaraha\w*|ansiosidonnai\w*|kotoutumiskoulutu\w*|"
    r"kotoutumissuunnitelm\w*|työvoimakoulutu\w*|tyovoimakoulutu\w*|omaehtoi\w*|osaamiskeskus\w*|"
    r"muutosturva\w*|työllistämistu\w*|tyollistamistu\w*|(?:nuorten )?(?:työllistymisseteli\w*|tyollistymisseteli\w*)|"
    r"työkkär\w*|tyokkar\w*|työpaikkailmoitu\w*|"
    r"rekrytointitu\w*|yhteishankintakoulutu\w*|rekrykoulutu\w*|täsmäkoulutu\w*|muutoskoulutu\w*|"
    r"alkuhaastattelu\w*|työtarjou\w*|työllisyyspalvelu\w*|tyollisyyspalvelu\w*|karenssi\w*|"
    r"työllistymissuunnitelm\w*|työkokeilu\w*|tyokokeilu\w*|oma asiointi\w*|kela|koske|ohjaamo\w*|omnia|te-toimisto\w*|espoo\w*|helsinki|vantaa|"
    r"kauniainen|yki|luotsi)\b",
    re.IGNORECASE,
)


_REPEATS = re.compile(r"(.)\1{2,}")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SCRIPT_OF = {"ar": "arabic", "fa": "arabic", "ur": "arabic", "ru": "cyrillic", "uk": "cyrillic",
              "zh": "han", "hi": "devanagari", "th": "thai"}


def _words(text: str) -> list[str]:
    """Lower-case words; 'hellooo' → 'hello' (chat elongation).

    `_WORD_RE` also matches numerals that are not decimal digits ('½', '²', 'Ⅻ'): a run of those
    with no letter is not a word, else a message of '½ ¹ ²' has words but no script to decide by.
    """
    return [_REPEATS.sub(r"\1", w.lower()) for w in _WORD_RE.findall(text) if any(ch.isalpha() for ch in w)]


def word_count(text: str) -> int:
    return len(_words(text))


LEXICON_WORDS = 4  # a message this short made only of one language's chat words is that language


def _lexicon_vote(words: Sequence[str], prior: Sequence[str]) -> str | None:
    """The one language all words of a short message belong to, using hints to break ties."""
    if not words or len(words) > LEXICON_WORDS:
        return None
    common: set[str] | None = None
    for w in words:
        langs = set(_LEX.get(w, frozenset()))
        if w in _AMBIGUOUS_EVERYWHERE:
            langs = set(TIER1)
        if not langs:
            return None
        common = langs if common is None else common & langs
    if not common:
        return None
    if len(common) == 1:
        return next(iter(common))
    for hint in prior:
        if hint in common:
            return hint
    return None


# Kurmanji Kurdish (Latin script), which neither statistical detector knows: its function words
# and verb forms.
_KURMANJI = frozenset("""
ez tu em hûn ew ji bi û jî xwe çawa çi kî kengî li ku ye ne heye hene dixwazim dikarim nizanim
dizanim nakim bikim dikim bibim kir kirin bû dibe tiştek min te wî wê me we ji bo ser re ev heke dikare
dixebite dixebitim karê kar alîkarî alîkariya spas silav erê fînî zimanê bêkar bêkarî bêkariyê herî nêzîk
""".split())
_KURMANJI_ONLY = frozenset("ez û jî xwe çawa dixwazim dikarim nizanim dizanim nakim bikim dikim tiştek heye hene "
                           "alîkarî alîkariya erê fînî zimanê bêkarî bêkariyê nêzîk spas silav ji".split())


def _kurmanji(words: Sequence[str]) -> bool:
    """Kurmanji when a telling word or letter (ê, î, û) stands among enough of its common words."""
    marked = sum(w in _KURMANJI for w in words)
    telling = any(w in _KURMANJI_ONLY or any(ch in "êîû" for ch in w) for w in words)
    return telling and marked >= min(3, max(2, len(words) // 3))


# Russian typed in Latin letters ("kak poluchit posobie"), common on phones without Cyrillic.
_RU_TRANSLIT = frozenset("""
kak chto shto gde kogda pochemu mne menya nuzhno nado hochu mogu mozhno rabota rabotu raboty posobie
poluchit bezraboticy bezrabotice spasibo privet zdravstvuyte zdravstvujte pozhaluysta pozhalujsta
ya ne znayu skolko kto eto est' est dengi pomogite pomoch yazyk finskij finskiy
""".split())
# Cyrillic words that tell Ukrainian from Russian when no letter does ("що таке", "как дела").
_UK_WORDS = frozenset("що як де дякую щиро таке мені можна роботу робота потрібно будь ласка добрий вибачте "
                      "треба коли чи це мене мій моя допомога допомогу гроші та але який яка".split())
_RU_WORDS = frozenset("что как где спасибо мне можно работу работа нужно пожалуйста добрый извините хорошо "
                      "когда ли это меня мой моя помощь деньги да но какой какая надо".split())


# --- layer 5: statistics --------------------------------------------------------------------

_LINGUA_NAMES = {
    "fi": "FINNISH", "sv": "SWEDISH", "en": "ENGLISH", "ru": "RUSSIAN", "uk": "UKRAINIAN",
    "et": "ESTONIAN", "ar": "ARABIC", "so": "SOMALI", "fa": "PERSIAN", "zh": "CHINESE",
    "vi": "VIETNAMESE", "tr": "TURKISH", "sq": "ALBANIAN", "es": "SPANISH", "fr": "FRENCH",
    "de": "GERMAN", "pl": "POLISH", "it": "ITALIAN", "pt": "PORTUGUESE", "nl": "DUTCH",
    "hi": "HINDI", "th": "THAI", "ro": "ROMANIAN", "lt": "LITHUANIAN", "lv": "LATVIAN",
    "hu": "HUNGARIAN", "da": "DANISH", "nb": "BOKMAL",
}
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _lingua(candidates: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, _LINGUA_NAMES[c]) for c in candidates if c in _LINGUA_NAMES]
    # Preloaded: lazy loading costs ~2 s on the first message that needs a new model.
    return LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()


def _lingua_code(language: object) -> str:
    iso = language.iso_code_639_1
    code = str(iso.name).lower()
    return "nb" if code == "nb" else code


def lingua_scores(text: str, candidates: tuple[str, ...]) -> dict[str, float]:
    detector = _lingua(candidates)
    values = detector.compute_language_confidence_values(text)
    return {_lingua_code(v.language): float(v.value) for v in values if v.value > 0.0}


@lru_cache(maxsize=1)
def _langdetect_factory() -> object:
    # All of langdetect's profiles: restricted to our candidates it ran twice as fast but lost
    # "how do I register as a jobseeker?" to Dutch on the blind set (2026-12-05).
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = 0  # langdetect is random by default; results must be repeatable
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def langdetect_scores(text: str) -> dict[str, float]:
    """langdetect's probabilities, mapped to our codes ('zh-cn' → 'zh', 'no' → 'nb')."""
    from langdetect.lang_detect_exception import LangDetectException

    factory = _langdetect_factory()
    with _lock:
        try:
            detector = factory.create()  # type: ignore[attr-defined]
            detector.append(text)
            probs = detector.get_probabilities()
        except LangDetectException:
            return {}
    out: dict[str, float] = {}
    for p in probs:
        code = p.lang.split("-")[0]
        code = "nb" if code == "no" else code
        out[code] = out.get(code, 0.0) + float(p.prob)
    return out


def langdetect_only(text: str) -> str:
    """The baseline the product brief named, for side-by-side evaluation."""
    scores = langdetect_scores(text)
    return max(scores, key=lambda k: scores[k]) if scores else UNDETERMINED


# --- the decision ---------------------------------------------------------------------------

ALL_CANDIDATES: tuple[str, ...] = tuple(
    c for c in TIER1 + TIER2 + OTHER if c in _LINGUA_NAMES
)
MIN_CONFIDENCE = 0.55


def _prior_list(hints: Iterable[str | None] | None) -> list[str]:
    out: list[str] = []
    for h in hints or ():
        code = normalise_hint(h)
        if code and code not in out:
            out.append(code)
    return out


LANGDETECT_WEIGHT = 0.2  # langdetect's share of the blend on longer Latin-script text


def _close_call(scores: dict[str, float]) -> bool:
    """Whether langdetect's vote could change lingua's choice. With weight w, the runner-up can only
    overtake when lingua's lead is below w / (1 - w); otherwise langdetect (the slowest part of a
    turn, ~2-4 ms) is not asked."""
    ranked = sorted(scores.values(), reverse=True)
    lead = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0) if ranked else 0.0
    return lead < LANGDETECT_WEIGHT / (1 - LANGDETECT_WEIGHT)


def _beside_finnish_words(words: Sequence[str], candidates: tuple[str, ...]) -> str | None:
    """The language of a message once its Finnish-looking words (with ä or ö) are set aside, when
    that is clearly another tier-1 language: 'sidee ku dhigaa työpaikkailmoitus' is Somali with a
    Finnish word in it, not Finnish."""
    rest = [w for w in words if not set(w) & set("äö")]
    if len(rest) < 3 or len(rest) == len(words):
        return None
    scores = lingua_scores(" ".join(rest), candidates)
    best = max(scores, key=lambda k: scores[k]) if scores else None
    if best in TIER1 and best != "fi" and scores[best] >= 0.9:
        return best
    return None


def detect(text: str, hints: Iterable[str | None] | None = None, *, thorough: bool = True) -> Detection:
    """Identify the language of one message.

    `hints` are language codes in order of strength: the conversation's language so far first,
    then the client's locale. They are evidence, not orders. `thorough=False` leaves out the
    langdetect vote on longer Latin-script text (about half the cost there): for an overloaded
    hub's "busy" answer, where a quick answer matters more than the last fraction of accuracy.
    """
    prior = _prior_list(hints)
    # A lone surrogate ('\udc00', from JSON escapes) cannot be encoded for lingua; it is no letter.
    text = _SURROGATE_RE.sub(" ", text or "")
    stripped = _NOISE_RE.sub(" ", unicodedata.normalize("NFC", text))
    words = _words(stripped)
    if not words:
        return Detection(UNDETERMINED, 0.0, "no-letters")

    asked = explicit_request(stripped)
    if asked:
        return Detection(asked, 1.0, "explicit")

    content = _FINNISH_TERMS.sub(" ", stripped)
    content_words = _words(content)
    scripts = _script_counts(content if content_words else stripped)
    if "han" in scripts:
        scripts["han"] *= 3  # a Han character carries about a word; "怎么申请starttiraha" is Chinese
    main_script = max(scripts, key=lambda s: scripts[s])
    if main_script == "latin" and len(scripts) > 1:
        # Latin words beside Arabic or Cyrillic ones are Finnish terms or names typed into the
        # customer's own language ("بدي اعمل tyonhakuprofiili كيف"): the other script decides.
        scripted = [(w, _word_script(w)) for w in content_words or words]
        by_words = Counter(script for _w, script in scripted if script != "latin")
        other = max(by_words, key=lambda s: by_words[s], default=None)
        if other is not None and by_words[other] >= min(2, len(words) - 1):
            main_script = other
            content = " ".join(w for w, script in scripted if script == other)
            content_words = _words(content)
    letters = set((content if content_words else stripped).lower())
    if main_script == "cyrillic":
        if letters & _UK_ONLY and not letters & _RU_ONLY:
            return Detection("uk", 0.99, "script")
        if letters & _RU_ONLY and not letters & _UK_ONLY:
            return Detection("ru", 0.99, "script")
        uk_words = sum(w in _UK_WORDS and w not in _RU_WORDS for w in content_words)
        ru_words = sum(w in _RU_WORDS and w not in _UK_WORDS for w in content_words)
        if uk_words != ru_words and not (uk_words and ru_words):
            return Detection("uk" if uk_words else "ru", 0.9, "words")
    if main_script == "han" or (main_script == "kana" and "kana" not in scripts):
        return Detection("zh", 0.95, "script")
    if main_script == "thai":
        return Detection("th", 0.95, "script")
    if main_script == "devanagari":
        return Detection("hi", 0.9, "script")
    if main_script in {"kana", "hangul", "hebrew", "greek", "armenian", "georgian", "ethiopic"}:
        return Detection(UNDETERMINED, 0.0, "script-unsupported")

    if prior and len(words) <= 2 and main_script in ("latin", _SCRIPT_OF.get(prior[0], "latin")):
        # "ok thanks", "kiitos paljon" or "hello" inside a conversation is too little to tell a
        # change of language from code-switching (Latin-script chat words and Finnish loanwords
        # are everywhere): it keeps the conversation's language. A short message in another
        # non-Latin writing system ("شكرا" in a Finnish chat) is strong evidence, decided below.
        return Detection(prior[0], 0.6, "hint-short")
    lexical = _lexicon_vote(words, prior)
    if lexical:
        return Detection(lexical, 0.9, "lexicon")
    if main_script == "latin" and _kurmanji(content_words):
        return Detection("ku", 0.85, "words")
    if main_script == "latin" and sum(w in _RU_TRANSLIT for w in content_words) >= max(2, (len(content_words) + 1) // 2):
        return Detection("ru", 0.8, "words")

    if len(content_words) == 0:
        # Only Finnish service names ("palkkatuki?"): the conversation decides, else Finnish.
        return Detection(prior[0] if prior else "fi", 0.5, "terms-only")
    if main_script == "arabic":
        if letters & _URDU_ONLY:
            return Detection("ur", 0.8, "script")
        candidates: tuple[str, ...] = ("ar", "fa")
        if letters & _PERSIAN_ONLY and not _ARABIC_ONLY & letters:
            return Detection("fa", 0.95, "script")
        if letters & _ARABIC_ONLY and not _PERSIAN_ONLY & letters:
            # Persian keyboards write ی and ک; Arabic ي, ك, ة and ى
            return Detection("ar", 0.95, "script")
    elif main_script == "cyrillic":
        candidates = ("ru", "uk")
    else:
        candidates = tuple(c for c in ALL_CANDIDATES if c not in {"ar", "fa", "ru", "uk", "zh", "hi", "th"})

    scores = lingua_scores(content, candidates)
    if thorough and len(content_words) >= 4 and main_script == "latin" and _close_call(scores):
        ld = {k: v for k, v in langdetect_scores(content).items() if k in candidates}
        if ld:
            scores = {k: (1 - LANGDETECT_WEIGHT) * scores.get(k, 0.0) + LANGDETECT_WEIGHT * ld.get(k, 0.0)
                      for k in set(scores) | set(ld)}
    if not scores:
        return Detection(prior[0] if prior else UNDETERMINED, 0.3 if prior else 0.0, "no-scores")
    if main_script == "latin" and max(scores, key=lambda k: scores[k]) == "fi":
        other = _beside_finnish_words(content_words, candidates)
        if other:
            return Detection(other, 0.8, "beside-finnish")

    if len(content_words) <= 3:
        # Population prior: in Espoo a short message is far likelier tier 1 than anything else.
        scores = {k: v * (2.0 if k in TIER1 else 1.0) for k, v in scores.items()}
    # Hints as a prior: strong for a few words, fading as the message grows.
    weight = 3.0 if len(content_words) <= 3 else 1.5 if len(content_words) <= 6 else 1.1
    for rank, hint in enumerate(prior):
        if hint in scores:
            scores[hint] *= weight if rank == 0 else (1 + (weight - 1) / 2)
    total = sum(scores.values()) or 1.0
    ranked = sorted(scores, key=lambda k: scores[k], reverse=True)
    best = ranked[0]
    confidence = scores[best] / total
    margin = scores[best] / scores[ranked[1]] if len(ranked) > 1 and scores[ranked[1]] else 10.0
    if confidence >= MIN_CONFIDENCE or margin >= 2.0:
        # lingua spreads its mass thinly over many candidates on short text; a clear lead
        # over the runner-up is as telling as a high share
        return Detection(best, round(max(confidence, min(0.9, 1 - 1 / (1 + margin))), 4), "statistics")
    if prior and prior[0] in scores and scores[prior[0]] >= 0.8 * scores[best]:
        return Detection(prior[0], round(scores[prior[0]] / total, 4), "hint")
    if len(content_words) <= 2 and best not in TIER1:
        return Detection(UNDETERMINED, round(confidence, 4), "ambiguous")
    return Detection(best, round(confidence, 4), "statistics")


def warm_up() -> None:
    """Load every statistical model now, so the first customer does not wait ~1 s for it —
    langdetect's profiles too: `detect` asks it only for some texts, and the first burst of
    customers then loaded them once per thread at the same time."""
    _langdetect_factory()
    langdetect_scores("Hyvää päivää, miten voin ilmoittautua työnhakijaksi tänään?")
    for sample in ("Hyvää päivää, miten voin ilmoittautua työnhakijaksi tänään?",
                   "Здравствуйте, как мне зарегистрироваться безработным сегодня?",
                   "مرحبا، كيف يمكنني التسجيل كباحث عن عمل اليوم؟"):
        detect(sample, [])


def conversation_language(previous: str | None, detection: Detection, word_count: int) -> str:
    """The language a conversation continues in after this message.

    A clear message in another language switches; a short or unclear one ("ok", "👍")
    keeps the conversation's language.
    """
    if detection.method == "explicit" or previous is None:
        return detection.language if detection.language != UNDETERMINED else (previous or UNDETERMINED)
    if detection.language in (UNDETERMINED, previous):
        return previous
    if word_count <= 2 and detection.confidence < 0.85:
        return previous
    return detection.language
