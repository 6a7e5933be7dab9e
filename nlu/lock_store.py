"""Rasa's lock store for a cluster: Redis, and this process's memory while Redis cannot be reached.

Rasa takes a lock per conversation for every message so two Rasa servers never run one
conversation's turns at once. With Rasa's own `RedisLockStore` an unreachable Redis fails every
turn; the issue (and any resident typing at that moment) wants the assistant to keep answering with
degraded guarantees instead. So while Redis is down each Rasa process falls back to its own
in-memory locks — still one turn at a time per conversation within the process, and the hub already
sends a conversation's turns one after another — and after a short pause tries Redis again.
Nothing here logs a conversation id or text: only that Redis went away and came back.

endpoints.yml: `lock_store: {type: nlu.lock_store.ResilientLockStore, url: host, port: …, db: …}`
(bot/services/rasa_store.py writes it when `LUOTSI_REDIS_URL` is set).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_AFTER_SECONDS = 5.0  # how long a process keeps to its own locks before asking Redis again
TIMEOUT_SECONDS = 1.0  # a Redis that does not answer within this is treated as down


class ResilientLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, "host": endpoint_config.url or "localhost", **kwargs}
        kwargs.setdefault("socket_timeout", TIMEOUT_SECONDS)
        super().__init__(**kwargs)
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = TIMEOUT_SECONDS
        self.local = InMemoryLockStore()
        self.down_until = 0.0

    def _either(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        import redis

        if time.monotonic() < self.down_until:
            return local()
        try:
            result = remote()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            if not self.down_until:
                log.warning("lock_store.redis_down falling back to in-process locks")
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            return local()
        if self.down_until:
            log.warning("lock_store.redis_back")
            self.down_until = 0.0
        return result

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        # a lock this process took while Redis was down still counts
        held = self.local.get_lock(conversation_id)
        if held is not None:
            return held
        return self._either(lambda: RedisLockStore.get_lock(self, conversation_id), lambda: None)

    def delete_lock(self, conversation_id: str) -> None:
        if self.local.get_lock(conversation_id) is not None:
            self.local.delete_lock(conversation_id)
            return
        self._either(lambda: RedisLockStore.delete_lock(self, conversation_id), lambda: None)

    def save_lock(self, lock: TicketLock) -> None:
        if self.local.get_lock(lock.conversation_id) is not None:
            self.local.save_lock(lock)
            return
        self._either(lambda: RedisLockStore.save_lock(self, lock), lambda: self.local.save_lock(lock))
