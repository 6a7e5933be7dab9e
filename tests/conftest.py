"""Shared fixtures. Tests go through public interfaces against real servers on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import ROOT, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_hub(settings: Settings) -> Iterator[tuple[str, object]]:
    """The hub's app under a real uvicorn on a free loopback port, in a thread: ("http://…", app).
    For tests that need real concurrency and real disconnects (TestClient runs one request at a time)."""
    import threading
    import time

    import uvicorn

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", backlog=1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def dead_rasa_url() -> str:
    """An address where nothing listens: connection refused, like a crashed Rasa."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def settings(tmp_path: Path, dead_rasa_url: str) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'luotsi.db'}", rasa_url=dead_rasa_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server, dropped afterwards."""
    import uuid

    import psycopg

    name = f"luotsi_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _model() -> Path:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model.py", ), "path"],
        check=True, stdout=subprocess.PIPE, text=True,
    )
    path = Path(out.stdout.strip())
    if not path.exists():
        pytest.fail(f"no trained model at {path}: run `make model` (make test does)")
    return path


class MailCapture:
    """A real SMTP server on loopback standing in for the city's mail relay: keeps what it gets."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@contextmanager
def running_capture() -> Iterator[tuple[str, MailCapture]]:
    """A MailCapture listening on a free loopback port: ("host:port", capture)."""
    from aiosmtpd.controller import Controller

    capture = MailCapture()
    controller = Controller(capture, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"127.0.0.1:{controller.port}", capture
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def relay() -> Iterator[tuple[str, MailCapture]]:
    with running_capture() as running:
        yield running


@pytest.fixture
def api() -> Iterator[object]:
    """A local Telegram Bot API of this test's own."""
    from tests.telegram_api import running_bot_api

    with running_bot_api() as running:
        yield running


@pytest.fixture
def tg_settings(settings: Settings, api) -> Settings:  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"telegram_token": api.token, "telegram_api_url": api.url,
                                       "telegram_poll_timeout": 1})


@pytest.fixture(scope="session")
def bot_api() -> Iterator[object]:
    """The local Telegram Bot API the stack's Telegram worker talks to."""
    from tests.telegram_api import running_bot_api

    with running_bot_api() as api:
        yield api


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, relay: tuple[str, MailCapture], bot_api) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The real stack — Rasa server, action server, hub, mail, Telegram — on free ports with a fresh SQLite."""
    from bot.cli import Stack

    tmp = tmp_path_factory.mktemp("stack")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'luotsi.db'}",
        http_port=free_port(),
        rasa_url=f"http://127.0.0.1:{free_port()}",
        actions_port=free_port(),
        smtp_port=free_port(),
        smtp_relay=relay[0],
        telegram_token=bot_api.token,
        telegram_api_url=bot_api.url,
        telegram_poll_timeout=1,
        phone_auth_token="stack-phone-auth-token",  # the telephony provider's key: webhooks are signed
    )
    running = Stack(settings=settings, model=_model(), log_dir=tmp / "logs")
    running.start()
    try:
        running.wait_ready(timeout=300)
        yield running
    except BaseException:
        for log in sorted((tmp / "logs").glob("*.log")):
            sys.stderr.write(f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}\n")
        raise
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, shared by a test module's browser tests (tests/test_browser*.py)."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
