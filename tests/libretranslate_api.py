"""A local stand-in for a LibreTranslate server: `/translate`, `/detect`, `/languages`, over HTTP.

No translation model can be downloaded here, so it "translates" by a small phrase table and
otherwise tags the text with the target language (`[ar] …`), keeping placeholders as a real engine
should. It can be slowed down, made to fail, or made to lose placeholders, and it counts calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.http_stub import serving

LANGUAGES = ["ar", "en", "fi", "sv", "ru", "uk", "et", "so", "fa", "zh", "tr", "es", "fr", "de", "pl"]
# (source, target, text) → translation: a few real sentences for the conversation tests
PHRASES = {
    ("ar", "fi", "أريد التسجيل كباحث عن عمل. رقمي [0]"): "Haluan ilmoittautua työnhakijaksi. Numeroni [0]",
    ("fi", "ar", "Haluan ilmoittautua työnhakijaksi. Numeroni [0]"): "أريد التسجيل كباحث عن عمل. رقمي [0]",
    ("fi", "ar", "Hei! Voit ilmoittautua [0]:ssa."): "مرحبا! يمكنك التسجيل في [0].",
    ("ar", "fi", "مرحبا! يمكنك التسجيل في [0]."): "Hei! Voit ilmoittautua [0]:ssa.",
}


@dataclass
class LibreTranslateApi:
    calls: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    fail: bool = False
    drop_placeholders: bool = False
    url: str = ""

    def translate(self, q: str, source: str, target: str) -> str:
        if (source, target, q) in PHRASES:
            return PHRASES[(source, target, q)]
        text = q
        if self.drop_placeholders:
            import re
            text = re.sub(r"\[\d+\]", "", text)
        return f"[{target}] {text}"


def _handler(api: LibreTranslateApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.startswith("/languages"):
                self._send(200, [{"code": c, "name": c, "targets": LANGUAGES} for c in LANGUAGES])
            else:
                self._send(404, {"error": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "Invalid request"})
                return
            api.calls.append({"path": self.path, **body})
            if api.delay:
                time.sleep(api.delay)
            if api.fail:
                self._send(500, {"error": "Internal error"})
                return
            if self.path.startswith("/translate"):
                q, source, target = body.get("q"), body.get("source"), body.get("target")
                if not isinstance(q, str) or target not in LANGUAGES:
                    self._send(400, {"error": "Invalid request: missing q or target"})
                    return
                self._send(200, {"translatedText": api.translate(q, source, target)})
            elif self.path.startswith("/detect"):
                q = str(body.get("q") or "")
                lang = "ar" if any("\u0600" <= c <= "\u06ff" for c in q) else "en"
                self._send(200, [{"language": lang, "confidence": 90.0}])
            else:
                self._send(404, {"error": "Not Found"})

    return Handler


@contextmanager
def running_libretranslate(api: LibreTranslateApi | None = None) -> Iterator[LibreTranslateApi]:
    api = api or LibreTranslateApi()
    with serving(_handler(api)) as url:
        api.url = url
        yield api
