#!/usr/bin/env python3
"""CPU per busy answer: the answer most customers get when everyone comes at once.

A hub (in this process) whose turn gate admits one turn, which a stand-in Rasa holds for 30 s, so
every other chat request is answered "busy, your message is kept". BENCH_BUSY_REQUESTS (3,000)
requests from BENCH_BUSY_CLIENTS (16) kept-alive connections, a new conversation every third
message, in four languages. Prints busy answers per second and this process's CPU per request
(the hub and its standard-library clients together). Used for docs/benchmarks.md (issue 16).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from tests.conftest import free_port, running_hub  # noqa: E402
from tests.rasa_standin import running  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_BUSY_REQUESTS", "3000"))
CLIENTS = int(os.environ.get("BENCH_BUSY_CLIENTS", "16"))
TEXTS = ["Miten ilmoittaudun työnhakijaksi?", "How do I register as a jobseeker?",
         "Как зарегистрироваться как ищущий работу?", "كيف أسجل كباحث عن عمل؟"]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-busy-"))
    with running(free_port(), 30.0, tmp / "rasa.jsonl") as rasa:
        settings = Settings(database_url=f"sqlite:///{tmp / 'busy.db'}", rasa_url=rasa, rasa_timeout=30, max_turns=1)
        with running_hub(settings) as (url, _app):
            host, port = url.removeprefix("http://").split(":")

            def hold() -> None:  # the one turn the gate admits, held by the stand-in Rasa
                try:
                    httpx.post(f"{url}/api/chat", json={"conversation_id": "held", "text": "Hei"}, timeout=60)
                except httpx.HTTPError:
                    pass

            threading.Thread(target=hold, daemon=True).start()
            time.sleep(1.0)

            def client(i: int) -> None:
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conversation = uuid.uuid4().hex
                for k in range(REQUESTS // CLIENTS):
                    if k % 3 == 0:
                        conversation = uuid.uuid4().hex
                    body = json.dumps({"conversation_id": conversation, "text": TEXTS[(i + k) % len(TEXTS)]})
                    conn.request("POST", "/api/chat", body=body, headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    data = response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{response.status}: {data[:200]!r}")

            cpu = sum(os.times()[:2])
            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            done = REQUESTS // CLIENTS * CLIENTS
            print(f"{done} busy answers from {CLIENTS} clients: {done / elapsed:.0f}/s, "
                  f"{1000 * (sum(os.times()[:2]) - cpu) / done:.2f} ms CPU per request (hub and clients)")


if __name__ == "__main__":
    main()
