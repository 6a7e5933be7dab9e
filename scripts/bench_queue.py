#!/usr/bin/env python3
"""What telling waiting customers their place costs (issue 18; `make bench-queue`).

N web-chat customers wait with their streams open; an adviser claims C tickets ahead of them, one
after another. Printed: how often the queue was read (one read per change, shared by every
stream), the database statements per claim in all (the claim's own included), and the time from a
claim to the new place showing on every stream. Embedded SQLite, one hub process, no Rasa."""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from integrations.webchat import live  # noqa: E402
from scripts.bench_desk import machine  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.conftest import free_port, running_hub  # noqa: E402
from tests.test_queue_position import _auth, _desk, _waiting, queue_stream  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--claims", type=int, default=50)
    args = parser.parse_args()
    live.SAFETY_POLL_SECONDS = 600.0  # only the claims wake the streams
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-queue-"))
    settings = Settings(database_url=f"sqlite:///{tmp / 'luotsi.db'}", rasa_url=f"http://127.0.0.1:{free_port()}")
    with running_hub(settings) as (base, app):
        cids, convs = _desk(app, args.streams, "bench")
        with app.state.sessionmaker() as db:  # tickets ahead of the customers, for the claims to take
            for n in range(args.claims):
                _waiting(db, f"bench-more-{n:03d}", f.now() - timedelta(minutes=40 - n / 100))
        auth = _auth(base, "espoo.bench")
        statements = {"n": 0}
        event.listen(app.state.engine, "before_cursor_execute",
                     lambda *_a, **_k: statements.__setitem__("n", statements["n"] + 1))
        with contextlib.ExitStack() as stack:
            streams = [stack.enter_context(queue_stream(base, app, c, k)) for c, k in zip(cids, convs, strict=True)]
            for n, s in enumerate(streams):
                s.wait_for(4 + args.claims + n, timeout=60)
            board = app.state.queue_board
            reads0, statements0 = board.reads, statements["n"]
            delays = []
            for claim in range(args.claims):
                started = time.monotonic()
                assert httpx.post(f"{base}/api/tickets/claim", headers=auth).status_code == 200
                for n, s in enumerate(streams):
                    s.wait_for(4 + args.claims + n - claim - 1, timeout=30)
                delays.append(time.monotonic() - started)
            reads, used = board.reads - reads0, statements["n"] - statements0
    delays.sort()
    print(f"Machine: {machine()}")
    print(f"{args.streams} waiting customers' streams, {args.claims} claims: {reads} queue reads, "
          f"{used / args.claims:.1f} statements per claim in all; claim → new place on every stream: "
          f"median {statistics.median(delays) * 1000:.0f} ms, p95 {delays[int(len(delays) * 0.95) - 1] * 1000:.0f} ms, "
          f"max {delays[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
