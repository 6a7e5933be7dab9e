#!/usr/bin/env python3
"""Phone webhook benchmark (make bench-phone): prints Markdown for docs/benchmarks.md.

The hub runs as `luotsi run` starts it (uvicorn, one process, SQLite with synchronous=FULL, fresh
database); 50 simulated calls at once walk the menu the way a provider drives it — incoming call,
language, role, topic, then either the dial to the city on shift or (closed) the callback path with
a time window — every request signed, every answer parsed as XML. Reported: the response time of
each webhook, p50/p95, overall and per step.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from bot.models import Shift  # noqa: E402
from integrations.phone.signature import compute_signature  # noqa: E402
from tests.conftest import free_port  # noqa: E402

TOKEN = "bench-phone-token"  # noqa: S105 - a throwaway key for this run
CALLS = 50
ROUNDS = 4


async def webhook(client: httpx.AsyncClient, base: str, path: str, params: dict[str, str],
                  timings: dict[str, list[float]]) -> ET.Element:
    signature = compute_signature(TOKEN, base + path, params.items())
    started = time.perf_counter()
    response = await client.post(base + path, data=params, headers={"X-Twilio-Signature": signature})
    timings.setdefault(path.split("?")[0].rsplit("/", 1)[-1], []).append(time.perf_counter() - started)
    response.raise_for_status()
    return ET.fromstring(response.content)  # noqa: S314 - our own hub on loopback


async def one_call(client: httpx.AsyncClient, base: str, n: int, open_: bool, timings: dict[str, list[float]]) -> None:
    sid = f"CA{'o' if open_ else 'c'}{n:06d}{time.monotonic_ns() % 1000000}"
    await webhook(client, base, "/api/phone/voice", {"CallSid": sid, "From": f"+35840{n:07d}", "To": "+358950000000"},
                  timings)
    for step, digit in (("language", str(n % 8 + 1)), ("role", "1"), ("topic", "2")):
        doc = await webhook(client, base, f"/api/phone/menu/{step}", {"CallSid": sid, "Digits": digit}, timings)
    if open_:
        assert doc.find("Dial") is not None
        await webhook(client, base, "/api/phone/menu/dialled", {"CallSid": sid, "DialCallStatus": "completed"}, timings)
    else:
        await webhook(client, base, "/api/phone/menu/callback", {"CallSid": sid, "Digits": "1"}, timings)
        doc = await webhook(client, base, "/api/phone/menu/window", {"CallSid": sid, "Digits": "2"}, timings)
        assert doc.find("Hangup") is not None


async def load(base: str, open_: bool, calls: int = CALLS, rounds: int = ROUNDS) -> tuple[dict[str, list[float]], float]:
    """The webhook timings and the requests per second."""
    timings: dict[str, list[float]] = {}
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for round_ in range(rounds):
            await asyncio.gather(*(one_call(client, base, round_ * calls + n + (0 if calls > 1 else 900000), open_,
                                            timings) for n in range(calls)))
    count = sum(len(v) for v in timings.values())
    return timings, count / (time.perf_counter() - started)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-phone-"))
    url = f"sqlite:///{tmp / 'luotsi.db'}"
    migrate(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LUOTSI_DATABASE_URL": url, "LUOTSI_PHONE_AUTH_TOKEN": TOKEN, "LUOTSI_HTTP_PORT": str(port),
           "LUOTSI_PUBLIC_URL": base, "LUOTSI_PHONE_NUMBERS": "employer_advisory.espoo=+358922222222",
           "LUOTSI_OPENING_HOURS": "mon-sun 00:00-23:59"}
    hub = subprocess.Popen([sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--port", str(port),
                            "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
    rows = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        single = asyncio.run(load(base, open_=False, calls=1, rounds=40))  # one call at a time, for reference
        closed = asyncio.run(load(base, open_=False))  # no shift: the callback path
        engine = make_engine(url)
        with make_sessionmaker(engine)() as db:  # Espoo takes the employer advisory: the dial path
            now = datetime.now(timezone.utc)
            db.add(Shift(city="espoo", queue="employer_advisory", channel=None, starts_at=now - timedelta(hours=1),
                         ends_at=now + timedelta(hours=2)))
            db.commit()
        engine.dispose()
        opened = asyncio.run(load(base, open_=True))
        for label, (timings, per_s) in (("one call at a time, closed → callback", single),
                                        (f"{CALLS} at once, closed → callback", closed),
                                        (f"{CALLS} at once, open → dial", opened)):
            every = [t for values in timings.values() for t in values]
            rows.append((label, f"all webhooks ({per_s:.0f} requests/s)", len(every), pct(every, 50), pct(every, 95)))
            if label.startswith(str(CALLS)):
                for step, values in timings.items():
                    rows.append((label, step, len(values), pct(values, 50), pct(values, 95)))
    finally:
        hub.terminate()
        hub.wait(timeout=20)
    print(f"Machine: {os.uname().machine}, {os.cpu_count()} cores; one hub process, SQLite (synchronous=FULL); "
          f"{CALLS} concurrent calls × {ROUNDS} rounds per path.\n")
    print("| path | webhook | requests | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|")
    for label, step, n, p50, p95 in rows:
        print(f"| {label} | {step} | {n} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
