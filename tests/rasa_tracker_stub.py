"""A tiny stand-in for Rasa's HTTP API that records tracker replacements (PUT …/tracker/events),
answers the REST channel with no messages and reports a loaded model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.http_stub import serving


@dataclass
class TrackerPut:
    conversation_id: str
    authorization: str
    events: object


@dataclass
class RasaRecord:
    puts: list[TrackerPut] = field(default_factory=list)

    @property
    def forgotten(self) -> set[str]:
        return {p.conversation_id for p in self.puts if p.events == []}


@contextmanager
def rasa_stub() -> Iterator[tuple[str, RasaRecord]]:
    record = RasaRecord()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: object, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> object:
            return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")

        def do_PUT(self) -> None:
            parts = self.path.split("/")
            events = self._body()
            if len(parts) == 5 and parts[1] == "conversations" and parts[3:] == ["tracker", "events"]:
                record.puts.append(TrackerPut(parts[2], self.headers.get("Authorization") or "", events))
                self._answer({"sender_id": parts[2], "events": events})
            else:
                self._answer({"error": "not found"}, 404)

        def do_POST(self) -> None:
            self._body()
            self._answer([])

        def do_GET(self) -> None:
            self._answer({"model_file": "stub.tar.gz"})

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url, record
