"""Rasa's lock store in a cluster (nlu/lock_store.py), against the real Redis behind a cuttable
forwarder: locks live in Redis while it answers, a Redis outage falls back to the process's own
locks instead of failing the turn, and Redis is used again once it is back."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import EndpointConfig

from nlu import lock_store
from nlu.lock_store import ResilientLockStore
from tests.tcp_proxy import TcpProxy

DB = 10


@pytest.fixture
def proxy():  # type: ignore[no-untyped-def]
    redis.Redis(host="127.0.0.1", port=6379, db=DB).flushdb()
    p = TcpProxy(("127.0.0.1", 6379))
    p.up()
    yield p
    p.down()


def _store(port: int) -> ResilientLockStore:
    config = EndpointConfig(url="127.0.0.1", type="nlu.lock_store.ResilientLockStore", port=port, db=DB,
                            key_prefix="luotsitest")
    return ResilientLockStore(endpoint_config=config)


async def _turn(store: ResilientLockStore, conversation_id: str) -> None:
    async with store.lock(conversation_id, wait_time_in_seconds=0.01):
        await asyncio.sleep(0.01)


def test_locks_are_in_redis_while_it_answers(proxy: TcpProxy) -> None:
    store = _store(proxy.port)
    seen = redis.Redis(host="127.0.0.1", port=6379, db=DB)

    async def hold() -> list[bytes]:
        async with store.lock("conv-a", wait_time_in_seconds=0.01):
            return list(seen.scan_iter("luotsitest:*"))

    keys = asyncio.run(hold())
    assert [k.decode() for k in keys] == ["luotsitest:lock:conv-a"]
    assert not list(seen.scan_iter("luotsitest:*"))  # released


def test_redis_down_falls_back_to_the_process_and_comes_back(proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock_store, "RETRY_AFTER_SECONDS", 0.5)
    store = _store(proxy.port)
    asyncio.run(_turn(store, "conv-b"))
    proxy.down()
    started = time.monotonic()
    for _ in range(5):
        asyncio.run(_turn(store, "conv-b"))  # Rasa's own RedisLockStore raises here
    assert time.monotonic() - started < 3  # one short time-out, then no waiting on Redis at all
    assert store.down_until > 0

    async def two_turns_at_once() -> list[str]:
        order: list[str] = []

        async def turn(name: str) -> None:
            async with store.lock("conv-c", wait_time_in_seconds=0.01):
                order.append(f"{name} in")
                await asyncio.sleep(0.05)
                order.append(f"{name} out")

        await asyncio.gather(turn("first"), turn("second"))
        return order

    # still one turn at a time per conversation within the process
    assert asyncio.run(two_turns_at_once()) == ["first in", "first out", "second in", "second out"]

    proxy.up()
    time.sleep(0.6)
    seen = redis.Redis(host="127.0.0.1", port=6379, db=DB)

    async def hold() -> list[bytes]:
        async with store.lock("conv-d", wait_time_in_seconds=0.01):
            return list(seen.scan_iter("luotsitest:*"))

    assert [k.decode() for k in asyncio.run(hold())] == ["luotsitest:lock:conv-d"]
    assert store.down_until == 0.0


def test_rasas_own_redis_lock_store_fails_the_turn_when_redis_is_down(proxy: TcpProxy) -> None:
    """Why the class exists: the stock store turns a Redis outage into a failed turn."""
    from rasa.core.lock_store import RedisLockStore

    stock = RedisLockStore(host="127.0.0.1", port=proxy.port, db=DB, socket_timeout=1)
    proxy.down()
    with pytest.raises((redis.exceptions.ConnectionError, LockError)):
        asyncio.run(_turn(stock, "conv-e"))  # type: ignore[arg-type]
