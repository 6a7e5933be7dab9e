"""Pure render step of the phone channel: prompts and menus → TwiML documents.

Every text goes through ElementTree, so it is escaped; a prompt is spoken with the provider's
voice for its language when there is one, played from a configured recording when not, and else
spoken in English (the caller chose that language, so they hear the option of an adviser anyway).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Voices:
    """Which languages the provider can speak (language → its `language` attribute) and which
    prompts are recorded (language → URL template with `{key}`)."""

    speak: dict[str, str]
    recordings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, speak: str, recordings: str = "") -> Voices:
        def pairs(spec: str) -> dict[str, str]:
            out = {}
            for item in spec.split(","):
                key, _, value = item.strip().partition("=")
                if key and value:
                    out[key.strip()] = value.strip()
            return out
        return cls(speak=pairs(speak), recordings=pairs(recordings))


class Response:
    """A TwiML <Response> being built."""

    def __init__(self) -> None:
        self.root = ET.Element("Response")

    def prompt(self, voices: Voices, language: str, key: str, text: str, english: str,
               parent: ET.Element | None = None) -> None:
        """Say `text` in `language`, or play its recording, or say the English `english`."""
        where = self.root if parent is None else parent
        if language in voices.speak:
            ET.SubElement(where, "Say", language=voices.speak[language]).text = text
        elif language in voices.recordings:
            ET.SubElement(where, "Play").text = voices.recordings[language].replace("{key}", key)
        else:
            ET.SubElement(where, "Say", language=voices.speak.get("en", "en-GB")).text = english

    def gather(self, action: str, *, num_digits: int | None = 1, timeout: int = 6,
               finish_on_key: str | None = None) -> ET.Element:
        attrs = {"input": "dtmf", "action": action, "method": "POST", "timeout": str(timeout)}
        if num_digits is not None:
            attrs["numDigits"] = str(num_digits)
        if finish_on_key is not None:
            attrs["finishOnKey"] = finish_on_key
        return ET.SubElement(self.root, "Gather", attrs)

    def redirect(self, url: str) -> None:
        ET.SubElement(self.root, "Redirect", method="POST").text = url

    def dial(self, number: str, *, action: str, timeout: int = 25, caller_id: str | None = None) -> None:
        attrs = {"action": action, "method": "POST", "timeout": str(timeout)}
        if caller_id:
            attrs["callerId"] = caller_id
        ET.SubElement(ET.SubElement(self.root, "Dial", attrs), "Number").text = number

    def hangup(self) -> None:
        ET.SubElement(self.root, "Hangup")

    def xml(self) -> str:
        return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(self.root, encoding="unicode")
