"""Personal data in a customer's text: found and masked before the text leaves the hub.

Pure (regular expressions only), shared by the hub's turn (nothing personal reaches Rasa and its
tracker) and the translator (nothing personal reaches the translation service). The hub keeps the
original text for the adviser.
"""

from __future__ import annotations

import re

# Personal identity code (henkilötunnus): DDMMYY, century sign (+ - A–F U–Y), 3 digits, check char.
HETU = re.compile(r"\b\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y]\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d \-()]{6,}\d")
LABELS = {"hetu": "[henkilötunnus]", "iban": "[IBAN]", "email": "[e-mail]", "phone": "[phone]"}
# most specific first, in one pass, so a label is never matched again
_ANY = re.compile("|".join(f"(?P<{name}>{pattern.pattern})" for name, pattern in (
    ("hetu", HETU), ("iban", IBAN), ("email", EMAIL), ("phone", PHONE))))


def mask(text: str) -> str:
    """The text with identity codes, bank accounts, e-mail addresses and phone numbers replaced by
    neutral labels ("[henkilötunnus]", "[IBAN]", "[e-mail]", "[phone]")."""
    return _ANY.sub(lambda match: LABELS[match.lastgroup or "phone"], text)


def find(text: str) -> list[tuple[str, str]]:
    """The personal data in the text, in order, as (kind, the text as written); kind is one of
    `LABELS` ("hetu", "iban", "email", "phone"). An identity code is never taken for a number."""
    return [(match.lastgroup or "phone", match.group()) for match in _ANY.finditer(text)]
