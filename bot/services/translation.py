"""Machine translation between customer and adviser: one interface, backends chosen by LUOTSI_TRANSLATOR.

- `none` (default): nothing is translated; messages flow as they are, marked untranslated.
- a URL: a self-hosted LibreTranslate server (`POST /translate`, `/detect`, `GET /languages`), so
  customer text stays on the city's own servers. Another backend (a public-sector or commercial
  API) is one small class with `translate()`.

Before text leaves Luotsi the official Finnish service names and other glossary terms, numbers,
dates, amounts, URLs, e-mail addresses and phone numbers are replaced by placeholders and restored
exactly afterwards; personal identity codes (and what else the policy names) never leave at all.
Translations are cached; a slow or failing backend never blocks a conversation: after a short
time-out the text goes through untranslated, and the result says so.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.services import metrics
from nlu import pii
from nlu.pii import EMAIL, HETU, IBAN, PHONE

log = logging.getLogger(__name__)

# Terms that stay as they are in every language: the official Finnish names customers must be
# able to find elsewhere (FACTS.md), and the names of the institutions.
GLOSSARY = (
    "Työmarkkinatori", "Kela", "palkkatuki", "starttiraha", "työvoimakoulutus", "omaehtoinen opiskelu",
    "kotoutumiskoulutus", "kotoutumissuunnitelma", "työllistymissuunnitelma", "alkuhaastattelu", "karenssi",
    "työtarjous", "muutosturva", "muutosneuvottelut", "työllistämistuki", "Espoon rekrytointituki",
    "nuorten työllistymisseteli", "yhteishankintakoulutus", "RekryKoulutus", "TäsmäKoulutus", "MuutosKoulutus",
    "osaamiskeskus", "KOSKE", "Omnia", "Ohjaamo", "työttömyyskassa", "ansiosidonnainen päiväraha",
    "peruspäiväraha", "työmarkkinatuki", "henkilötunnus", "YKI", "Espoo", "Kauniainen", "Helsinki", "Vantaa",
)
URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:fi|com|org|net|eu)\b(?:/\S*)?")
AMOUNT = re.compile(r"(?:€\s?\d[\d\s.,]*\d|\d[\d\s.,]*\s?(?:€|euro[as]?|eur)\b|\d+(?:[.,]\d+)?\s?%)", re.IGNORECASE)
DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.(?:\d{2,4})?|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b")
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
MASKABLE = ("hetu", "iban", "email", "phone")
MASK_TEXT = pii.LABELS


class TranslationUnavailable(Exception):
    """The backend did not answer in time, or answered with an error."""


@dataclass(frozen=True)
class Translation:
    text: str  # the translation, or the original text when none was made
    source: str
    target: str
    translated: bool  # False: the text went through as it was (no backend, a time-out, same language)
    reliable: bool = True  # False: placeholders were lost or the back-translation strayed
    note: str | None = None  # why it is untranslated or unreliable ("timeout", "none", …)


class Backend(Protocol):
    name: str

    def translate(self, text: str, source: str, target: str) -> str: ...


class LibreTranslate:
    """A LibreTranslate server (https://github.com/LibreTranslate/LibreTranslate), self-hosted."""

    name = "libretranslate"

    def __init__(self, url: str, timeout: float, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)))

    def translate(self, text: str, source: str, target: str) -> str:
        body = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        try:
            response = self.client.post(f"{self.url}/translate", json=body)
            response.raise_for_status()
            translated = response.json().get("translatedText")
        except (httpx.HTTPError, ValueError) as exc:
            raise TranslationUnavailable(type(exc).__name__) from exc
        if not isinstance(translated, str):
            raise TranslationUnavailable("no translatedText")
        return translated


@dataclass(frozen=True)
class Protected:
    text: str  # with placeholders
    slots: tuple[str, ...]  # what each placeholder stands for after translation


def _token(n: int) -> str:
    return f"[{n}]"


_GLOSSARY = "|".join(re.escape(t) for t in sorted(GLOSSARY, key=len, reverse=True))
# One pass, most specific first, so a placeholder is never matched again.
_PROTECT = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in (
    ("hetu", HETU.pattern), ("iban", IBAN.pattern), ("email", EMAIL.pattern), ("url", URL.pattern),
    ("phone", PHONE.pattern), ("amount", AMOUNT.pattern), ("date", DATE.pattern),
    ("term", rf"(?<!\w)(?:{_GLOSSARY})(?!\w)"), ("number", NUMBER.pattern))), re.IGNORECASE)


def protect(text: str, mask: frozenset[str] = frozenset({"hetu", "iban"})) -> Protected:
    """Replace what must not change with numbered placeholders; what the masking policy names
    (identity codes, bank accounts, …) comes back as a neutral label, so it never leaves Luotsi
    and is not copied into the stored translation either."""
    slots: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kind = match.lastgroup or ""
        slots.append(MASK_TEXT[kind] if kind in mask and kind in MASK_TEXT else match.group())
        return _token(len(slots) - 1)

    return Protected(text=_PROTECT.sub(keep, text), slots=tuple(slots))


def restore(translated: str, protected: Protected) -> tuple[str, bool]:
    """Put the protected values back; False when the backend lost or duplicated a placeholder."""
    intact = True
    out = translated
    for n in range(len(protected.slots) - 1, -1, -1):  # [10] before [1]
        token = _token(n)
        if out.count(token) != 1:
            intact = False
        out = out.replace(token, protected.slots[n])
    return out, intact


class Translator:
    """The one translator of a hub process: a backend (or none), a cache and the time-out."""

    def __init__(self, backend: Backend | None, mask: frozenset[str] = frozenset({"hetu", "iban"}),
                 cache_size: int = 2000) -> None:
        self.backend = backend
        self.mask = mask
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self.calls = 0  # backend calls made (the cache saves the rest)

    @classmethod
    def from_setting(cls, setting: str, *, timeout: float = 2.0, api_key: str | None = None,
                     mask: str = "hetu,iban") -> Translator:
        masked = frozenset(m.strip() for m in mask.split(",") if m.strip() in MASKABLE) | {"hetu"}
        if not setting or setting.strip().lower() == "none":
            return cls(None, masked)
        return cls(LibreTranslate(setting.strip(), timeout, api_key), masked)

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    def translate(self, text: str, source: str | None, target: str) -> Translation:
        src = source or "auto"
        if self.backend is None:
            return Translation(text=text, source=src, target=target, translated=False, note="none")
        if src == target or not text.strip():
            return Translation(text=text, source=src, target=target, translated=False, note="same_language")
        protected = protect(text, self.mask)
        key = (protected.text, src, target)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is None:
            try:
                cached = self.backend.translate(protected.text, src, target)
            except TranslationUnavailable as exc:
                log.warning("translation.unavailable backend=%s error=%s", self.backend.name, exc)
                metrics.count_translation(exc)
                return Translation(text=text, source=src, target=target, translated=False, note="unavailable")
            self.calls += 1
            metrics.count_translation()
            with self._lock:
                self._cache[key] = cached
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        restored, intact = restore(cached, protected)
        return Translation(text=restored, source=src, target=target, translated=True, reliable=intact,
                           note=None if intact else "placeholders_lost")

    def check_reliable(self, original: str, translation: Translation) -> bool:
        """Back-translate and compare: a translation whose way back shares too little with the
        original (or lost placeholders) is not reliable enough to act on — an interpreter is."""
        if not translation.translated:
            return True
        if not translation.reliable:
            return False
        back = self.translate(translation.text, translation.target, translation.source)
        if not back.translated:
            return True  # could not check: no worse than before
        return similarity(original, back.text) >= 0.35


def similarity(a: str, b: str) -> float:
    """Word-set overlap (Jaccard) of two texts, case- and punctuation-blind."""
    words_a = set(re.findall(r"\w+", a.lower()))
    words_b = set(re.findall(r"\w+", b.lower()))
    if not words_a and not words_b:
        return 1.0
    return len(words_a & words_b) / len(words_a | words_b)
