"""Per-client limits on the customer-facing API, answered with 429 in the customer's language.

A script must not be able to flood the advisers' queues (three misunderstood messages make a
ticket) or the assistant. Two windows, in this process's memory:

- per conversation: a person cannot type more than `per_conversation` messages a minute;
- per client address: `per_address` messages a minute from one address, unless it is a loopback
  address (the reverse proxy, `luotsi run`'s own tools and the benchmarks come from there; behind a
  proxy, uvicorn's `--proxy-headers` puts the customer's address in its place).

With several hub processes each keeps its own windows (the load balancer spreads a client over
them), so the effective limit is at most N times this. Addresses are kept only as keys of the
current window, never logged or stored.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque


class SlidingWindow:
    """At most `limit` events per `seconds` per key; keeps at most `max_keys` keys (oldest dropped)."""

    def __init__(self, limit: int, seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and now - events[0] >= self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ChatLimits:
    def __init__(self, per_conversation: int, per_address: int) -> None:
        self.conversations = SlidingWindow(per_conversation)
        self.addresses = SlidingWindow(per_address)

    def allow(self, conversation_id: str, address: str | None, now: float | None = None) -> bool:
        if not self.conversations.allow(conversation_id, now):
            return False
        return is_loopback(address) or address is None or self.addresses.allow(address, now)
