"""A stand-in Rasa server in its own process, as the real one is: it speaks Rasa's REST webhook
(`POST /webhooks/rest/webhook`, answers as catalogue keys and the actions' decisions in `custom`
payloads) and `GET /status`, answers after `--delay` seconds, and appends what it was sent to
`--record` (one JSON line per message), so a test can check what the hub told Rasa.

    python -m tests.rasa_standin --port 5005 --delay 0.8 --record /tmp/received.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx


def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What the real assistant would decide for the kinds of message the tests send."""
    sender = body.get("sender")
    if "person" in str(body.get("message")):
        # what action_handoff returns: a decision, not a call to the hub
        return [{"recipient_id": sender, "custom": {"luotsi": "handoff", "reason": "asked_for_human",
                                                    "topic": "register_jobseeker"}}]
    if "zzclarify" in str(body.get("message")):  # what action_luotsi_fallback returns for a close call
        return [{"recipient_id": sender, "custom": {"luotsi": "clarify", "options": ["pay_subsidy", "startup_grant"]}}]
    if "zzfallback" in str(body.get("message")):
        return [{"recipient_id": sender, "custom": {"luotsi": "say", "key": "utter_fallback"}}]
    return [{"recipient_id": sender, "custom": {"luotsi": "say", "key": "utter_register_jobseeker"}}]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, port: int, delay: float, record: Path) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.delay = delay
        self.record = record.open("a", encoding="utf-8")
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # head and body leave in one segment (no Nagle/delayed-ACK pause)
    server: Server

    def _json(self, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # /status, for the hub's /readyz
        self._json({"model_file": "stand-in.tar.gz"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        with self.server.lock:
            self.server.record.write(json.dumps(body, ensure_ascii=False) + "\n")
            self.server.record.flush()
        time.sleep(self.server.delay)
        try:
            self._json(answer(body))
        except OSError:  # the hub gave up waiting
            pass

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def running(port: int, delay: float, record: Path) -> Iterator[str]:
    """The stand-in in a child process; yields its URL once it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.rasa_standin", "--port", str(port), "--delay", str(delay),
                             "--record", str(record)], cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/status", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Rasa stand-in did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def received(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    Server(args.port, args.delay, args.record).serve_forever()


if __name__ == "__main__":
    main()
