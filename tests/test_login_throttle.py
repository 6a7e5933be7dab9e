"""Sign-in throttling that cannot be turned against the advisory (issue 15): failures slow down the
(account, address) pair; one address has a much higher ceiling; only configured proxies are believed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.app import create_app
from bot.cli import Stack
from bot.config import Settings
from bot.services.auth import LoginThrottle, Throttled
from tests import factories as f

STRANGER = ("203.0.113.9", 50000)
ADVISER_DESK = ("198.51.100.20", 50000)


@pytest.fixture
def app(settings: Settings) -> Iterator[object]:
    app = create_app(settings)
    with TestClient(app):
        with app.state.sessionmaker() as session:
            f.adviser(session, "target")
        yield app


def _sign_in(app: object, address: tuple[str, int], password: str) -> int:
    with TestClient(app, client=address) as client:  # type: ignore[arg-type]
        return client.post("/api/auth/token", data={"username": "target", "password": password}).status_code


def test_a_stranger_cannot_lock_an_adviser_out(app: object) -> None:
    for _ in range(5):
        assert _sign_in(app, STRANGER, "wrong-guess-123") == 401
    assert _sign_in(app, STRANGER, f.PASSWORD) == 429  # the guesser is stopped…
    assert _sign_in(app, ADVISER_DESK, f.PASSWORD) == 200  # …the adviser at their desk is not


def test_one_address_has_a_high_ceiling_not_a_low_one() -> None:
    throttle = LoginThrottle(pair_limit=5, address_limit=20)
    for n in range(19):  # an office behind one proxy: many people, a typo each
        throttle.check(f"adviser{n}", "10.0.0.1")
        throttle.failed(f"adviser{n}", "10.0.0.1")
    throttle.check("adviser99", "10.0.0.1")
    throttle.failed("adviser99", "10.0.0.1")
    with pytest.raises(Throttled):  # a spray over many accounts from one address is stopped
        throttle.check("adviser100", "10.0.0.1")
    throttle.check("adviser100", "10.0.0.2")


def test_success_clears_only_its_own_pair() -> None:
    throttle = LoginThrottle(pair_limit=2, address_limit=100)
    throttle.failed("a", "1.1.1.1")
    throttle.failed("a", "2.2.2.2")
    throttle.failed("a", "2.2.2.2")
    throttle.succeeded("a", "1.1.1.1")
    throttle.check("a", "1.1.1.1")
    with pytest.raises(Throttled):
        throttle.check("a", "2.2.2.2")


def _seen_address(trusted: str, peer: tuple[str, int], forwarded: str) -> str:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.client.host if request.client else "")

    app = ProxyHeadersMiddleware(Starlette(routes=[Route("/", echo)]), trusted_hosts=trusted)
    with TestClient(app, client=peer) as client:  # type: ignore[arg-type]
        return client.get("/", headers={"X-Forwarded-For": forwarded}).text


def test_forwarded_addresses_are_believed_only_from_configured_proxies(settings: Settings) -> None:
    """The hub runs under uvicorn with `--forwarded-allow-ips` from LUOTSI_TRUSTED_PROXIES."""
    configured = settings.model_copy(update={"trusted_proxies": "10.1.2.3"})
    hub = _hub_argv(configured)
    assert "--forwarded-allow-ips" in hub and hub[hub.index("--forwarded-allow-ips") + 1] == "10.1.2.3"
    assert _seen_address("10.1.2.3", ("10.1.2.3", 1), "203.0.113.9") == "203.0.113.9"
    assert _seen_address("10.1.2.3", ("198.51.100.7", 1), "203.0.113.9") == "198.51.100.7"  # spoofed header ignored


def _hub_argv(settings: Settings) -> list[str]:
    stack = Stack(settings=settings, model=Path("/nonexistent"))
    spawned: dict[str, list[str]] = {}
    stack._spawn = lambda name, argv: spawned.__setitem__(name, argv)  # type: ignore[method-assign]
    stack.start()
    return spawned["hub"]
