"""The `luotsi` command: `luotsi run` starts the whole stack under one supervisor.

Later issues add `luotsi user add` and `luotsi shifts import` here.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import ROOT, Settings, get_settings
from bot.db import migrate

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
# `rasa` through nlu/runtime.py: logs without message text, the API secret taken from the environment
RASA_RUN = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "nlu.runtime"]


def ensure_model() -> Path:
    """The trained model for the current inputs, training it first when it is stale."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model.py"), "ensure"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def _port(url: str) -> int:
    return httpx.URL(url).port or 80


def _die_with_parent() -> None:
    """Runs in each child before exec: the kernel sends it SIGTERM when the supervisor dies,
    so a killed `luotsi run` never leaves Rasa or the hub running on their ports."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: Ctrl-C still reaches the whole process group
        pass


def check_port_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex((host, port)) == 0:
            raise SystemExit(f"luotsi: port {port} on {host} is already in use; is Luotsi already running?")


@dataclass
class Stack:
    """Rasa server, action server and hub as child processes; stops them all together."""

    settings: Settings
    model: Path
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(24))

    def __post_init__(self) -> None:
        if self.settings.rasa_token:
            self.rasa_token = self.settings.rasa_token

    @property
    def hub_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.settings.http_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.actions_port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            TF_CPP_MIN_LOG_LEVEL="2",
            LUOTSI_ACTIONS_URL=self.actions_url,
            LUOTSI_DATABASE_URL=self.settings.database_url,
            LUOTSI_HTTP_PORT=str(self.settings.http_port),
            LUOTSI_HTTP_HOST=self.settings.http_host,
            LUOTSI_RASA_URL=self.settings.rasa_url,
            LUOTSI_RASA_TIMEOUT=str(self.settings.rasa_timeout),
            LUOTSI_RASA_TOKEN=self.rasa_token,
            LUOTSI_OPENING_HOURS=self.settings.opening_hours,
            LUOTSI_HOME_AREA=self.settings.home_area,
            LUOTSI_SMTP_PORT=str(self.settings.smtp_port),
            LUOTSI_MAILBOXES=self.settings.mailboxes,
            **({"LUOTSI_SMTP_RELAY": self.settings.smtp_relay} if self.settings.smtp_relay else {}),
            **self._telegram_env(),
            LUOTSI_TRANSLATOR=self.settings.translator,
            LUOTSI_TRANSLATOR_TIMEOUT=str(self.settings.translator_timeout),
            LUOTSI_TRANSLATOR_MASK=self.settings.translator_mask,
            LUOTSI_PHONE_NUMBERS=self.settings.phone_numbers,
            **({"LUOTSI_PHONE_AUTH_TOKEN": self.settings.phone_auth_token} if self.settings.phone_auth_token else {}),
            LUOTSI_PHONE_VOICES=self.settings.phone_voices,
            LUOTSI_PHONE_RECORDINGS=self.settings.phone_recordings,
            # Rasa logs message texts at debug level; customers type identity codes and health
            # details, so its level is pinned here.
            LOG_LEVEL="INFO",
            PYTHONWARNINGS="ignore",  # Rasa's dependencies print pages of deprecation warnings
            LOG_LEVEL_LIBRARIES="ERROR",
            SANIC_REGISTER="False",
            # rasa_sdk binds 0.0.0.0 unless told otherwise; the action server is internal.
            SANIC_HOST="127.0.0.1",
        )
        return env

    def _telegram_env(self) -> dict[str, str]:
        s = self.settings
        if not s.telegram_token:
            return {}
        env = {"LUOTSI_TELEGRAM_TOKEN": s.telegram_token, "LUOTSI_TELEGRAM_API_URL": s.telegram_api_url,
               "LUOTSI_TELEGRAM_MODE": s.telegram_mode, "LUOTSI_TELEGRAM_POLL_TIMEOUT": str(s.telegram_poll_timeout),
               "LUOTSI_TELEGRAM_RATE_LIMIT": str(s.telegram_rate_limit)}
        for name, value in (("FILE_URL", s.telegram_file_url), ("WEBHOOK_URL", s.telegram_webhook_url),
                            ("WEBHOOK_SECRET", s.telegram_webhook_secret)):
            if value:
                env[f"LUOTSI_TELEGRAM_{name}"] = value
        return env

    def _spawn(self, name: str, argv: list[str]) -> None:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=self._env(), stdout=out, stderr=subprocess.STDOUT if out else None,
            preexec_fn=_die_with_parent,
        )

    def start(self) -> None:
        rasa_port = _port(self.settings.rasa_url)
        check_port_free(self.settings.http_host, self.settings.http_port)
        check_port_free("127.0.0.1", rasa_port)
        check_port_free("127.0.0.1", self.settings.actions_port)
        check_port_free(self.settings.smtp_host, self.settings.smtp_port)
        migrate(self.settings.database_url)
        self._spawn(
            "actions",
            [*RASA_RUN, "run", "actions", "--port", str(self.settings.actions_port), "--actions", "actions"],
        )
        # Rasa's HTTP API secret travels in the environment (LUOTSI_RASA_TOKEN), never on this command line
        self._spawn(
            "rasa",
            [*RASA_RUN, "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(rasa_port),
             "--model", str(self.model), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
        )
        self._spawn("mail", [sys.executable, "-m", "integrations.email.server"])
        if self.settings.telegram_token:
            self._spawn("telegram", [sys.executable, "-m", "integrations.telegram.worker"])
        self._spawn(
            "hub",
            [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host",
             self.settings.http_host, "--port", str(self.settings.http_port), "--no-access-log",
             "--proxy-headers", "--forwarded-allow-ips", self.settings.trusted_proxies],
        )

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Block until the hub says it is ready (database and Rasa with its model answer)."""
        deadline = time.monotonic() + timeout
        last = "not started"
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
            try:
                r = httpx.get(f"{self.hub_url}/readyz", timeout=2)
                if r.status_code == 200:
                    actions = httpx.get(f"{self.actions_url}/health", timeout=2)
                    if actions.status_code == 200:
                        self._warm_up_rasa()
                        return
                    last = "action server not ready"
                else:
                    last = "; ".join(r.json().get("problems", []))
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(1)
        raise TimeoutError(f"stack not ready after {timeout:.0f} s: {last}")

    def _warm_up_rasa(self) -> None:
        """Rasa's first message after loading a model takes ~2 s (lazy imports, first action
        connection); one message from the supervisor keeps that off the first customer."""
        for text, language in (("hei", "fi"), ("hello", "en"), ("مرحبا", "ar")):
            # with the language decided, as the hub sends it: Rasa then loads no detector models
            httpx.post(
                f"{self.settings.rasa_url}/webhooks/rest/webhook",
                json={"sender": "luotsi-warm-up", "message": text, "metadata": {"language": language}},
                timeout=30,
            )

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


DEMO_ACCOUNTS = [
    # (username, role, city, languages)
    ("helsinki.adviser", "adviser", "helsinki", "fi,sv,en"),
    ("helsinki.adviser2", "adviser", "helsinki", "fi,en,ru"),
    ("helsinki.supervisor", "supervisor", "helsinki", "fi,sv,en"),
    ("espoo.adviser", "adviser", "espoo", "fi,sv,en"),
    ("espoo.adviser2", "adviser", "espoo", "fi,en,ar,so"),
    ("espoo.supervisor", "supervisor", "espoo", "fi,sv,en"),
    ("vantaa.adviser", "adviser", "vantaa", "fi,sv,en"),
    ("vantaa.adviser2", "adviser", "vantaa", "fi,en,et,uk"),
    ("vantaa.supervisor", "supervisor", "vantaa", "fi,sv,en"),
    ("admin", "admin", "espoo", "fi,sv,en"),
]


def demo_password(username: str) -> str:
    return f"luotsi-demo-{username.split('.')[0]}"


def check_demo_allowed(settings: Settings) -> str | None:
    """Why demo data must not start here, or None: its accounts have guessable passwords, so only loopback."""
    host = settings.http_host.strip("[]").rstrip(".").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        where = f"LUOTSI_HTTP_HOST={settings.http_host} is not a loopback address (127.0.0.0/8, ::1, localhost)"
    elif (settings.public_url or "").lower().startswith("https://"):
        where = f"LUOTSI_PUBLIC_URL={settings.public_url} is a public https address"
    else:
        return None
    return (f"refusing to start with demo data: {where}. The demo accounts have guessable passwords. "
            "In production run `luotsi run` without --demo (and without LUOTSI_DEMO) and create accounts "
            "with `luotsi user add` (README, \"Production\").")


def seed_demo(settings: Settings) -> list[str]:
    """The demo roster and accounts `make run` shows (never for production)."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from bot.db import make_engine, make_sessionmaker
    from bot.models import Adviser
    from bot.services.auth import do_create_adviser
    from bot.services.shifts import OpeningHours, do_seed_demo_week

    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    now = datetime.now(timezone.utc)
    lines = []
    with make_sessionmaker(engine)() as session:
        do_seed_demo_week(session, now, OpeningHours.parse(settings.opening_hours))
        for username, role, city, languages in DEMO_ACCOUNTS:
            if session.scalars(select(Adviser).where(Adviser.username == username)).first() is None:
                do_create_adviser(session, username=username, role=role, city=city, languages=languages,
                                  password=demo_password(username), now=now)
            lines.append(f"  {username:<22} {demo_password(username):<24} {role:<11} {city:<9} {languages}")
    engine.dispose()
    return lines


def run_purge(settings: Settings, *, rasa_token: str | None = None) -> dict[str, int]:
    """One retention purge (bot/services/retention.py) with its own engine and session; Rasa
    forgets the purged conversations when it answers."""
    from datetime import datetime, timezone

    from bot.db import make_engine, make_sessionmaker
    from bot.services.rasa import RasaClient
    from bot.services.retention import do_purge

    engine = make_engine(settings.database_url)
    rasa = RasaClient(settings.rasa_url, max(settings.rasa_timeout, 2.0), rasa_token or settings.rasa_token)
    try:
        with make_sessionmaker(engine)() as session:
            return do_purge(session, datetime.now(timezone.utc), settings, forget=rasa.forget)
    finally:
        rasa.close()
        engine.dispose()


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


def last_purge_at(settings: Settings) -> float | None:
    """When the last retention purge ran (its audit entry), as a Unix time; None if never."""
    from sqlalchemy import func, select

    from bot.db import make_engine, make_sessionmaker
    from bot.models import AuditEvent

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            at = session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == "retention.purge"))
    finally:
        engine.dispose()
    return at.timestamp() if at is not None else None


class DailyPurge(threading.Thread):
    """The retention purge once a day inside `luotsi run`. The last run is read from the audit
    trail, so a restart does not purge again before its day is up (nor skip a day); a failure is
    printed and tried again at the next check."""

    def __init__(self, settings: Settings, *, rasa_token: str | None, every: float = 86400.0,
                 check_every: float = 3600.0, first_check: float = 60.0) -> None:
        super().__init__(name="luotsi-purge", daemon=True)
        self.settings, self.rasa_token = settings, rasa_token
        self.every, self.check_every, self.first_check = every, check_every, first_check
        self.stopping = threading.Event()

    def run(self) -> None:
        wait = self.first_check
        while not self.stopping.wait(wait):
            wait = self.check_every
            try:
                last = last_purge_at(self.settings)
                if last is not None and time.time() - last < self.every:
                    continue
                counts = run_purge(self.settings, rasa_token=self.rasa_token)
                print(f"luotsi: retention purge: {_counts_line(counts)}", flush=True)
            except Exception as exc:  # the stack keeps running; the next check tries again
                print(f"luotsi: retention purge failed ({type(exc).__name__}); trying again later", flush=True)

    def stop(self) -> None:
        self.stopping.set()


def cmd_run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.demo or settings.demo:
        refusal = check_demo_allowed(settings)
        if refusal:
            print(f"luotsi: {refusal}", file=sys.stderr, flush=True)
            return 2
    demo_lines = seed_demo(settings) if args.demo or settings.demo else []
    print("luotsi: checking the Rasa model…", flush=True)
    model = ensure_model()
    stack = Stack(settings=settings, model=model)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("luotsi: starting the action server, Rasa and the hub (Rasa takes ~30 s to load)…", flush=True)
    stack.start()
    purge = DailyPurge(settings, rasa_token=stack.rasa_token)
    try:
        stack.wait_ready()
        purge.start()
        base = settings.base_url
        print(
            "\nLuotsi is running:\n"
            f"  web chat          {base}/\n"
            f"  widget demo page  {base}/widget-demo   (embed: <script src=\"{base}/widget.js\" async></script>)\n"
            f"  adviser console   {base}/console\n"
            f"  e-mail intake     smtp://{settings.smtp_host}:{settings.smtp_port}  "
            f"({', '.join(settings.mailbox_queues())})\n"
            + (f"  Telegram          {settings.telegram_mode} via {httpx.URL(settings.telegram_api_url).host}\n"
               if settings.telegram_token else "  Telegram          off (set LUOTSI_TELEGRAM_TOKEN to serve it)\n")
            + f"  phone webhooks    {base}/api/phone/voice  ("
            + ("signed with LUOTSI_PHONE_AUTH_TOKEN" if settings.phone_auth_token else
               "off until LUOTSI_PHONE_AUTH_TOKEN is set: every call is refused") + ")\n"
            + f"  translation       {'off (LUOTSI_TRANSLATOR=none)' if settings.translator == 'none' else settings.translator}\n"
            + f"  API docs          {base}/docs\n"
            f"  readiness         {base}/readyz\n"
            f"  Rasa              {settings.rasa_url}\n"
            f"  database          {settings.database_url}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        if demo_lines:
            print("Demo adviser accounts (username, password, role, city, languages) — demo roster: the\n"
                  "employer advisory rotates between Helsinki, Espoo and Vantaa, Mon–Fri "
                  f"{settings.opening_hours.split()[-1]} Finnish time:")
            print("\n".join(demo_lines), flush=True)
        while not stopping:
            dead = [name for name, proc in stack.processes.items() if proc.poll() is not None]
            if dead:
                time.sleep(0.5)  # Ctrl-C reaches the children too; let our own handler run first
                if stopping:
                    break
                print(f"luotsi: {', '.join(dead)} stopped unexpectedly; stopping everything", flush=True)
                return 1
            time.sleep(0.5)
    finally:
        print("\nluotsi: stopping…", flush=True)
        purge.stop()
        stack.stop()
        print("luotsi: stopped.", flush=True)
    return 0


def _db_session(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.db import make_engine, make_sessionmaker

    migrate(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url))()


def cmd_user_add(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from bot.services.auth import AccountError, do_create_adviser

    password = sys.stdin.readline().rstrip("\n")
    with _db_session(get_settings()) as session:
        try:
            adviser = do_create_adviser(session, username=args.username, role=args.role, city=args.city,
                                        languages=args.languages, password=password,
                                        now=datetime.now(timezone.utc), max_open_tickets=args.max_open_tickets)
        except AccountError as exc:
            print(f"luotsi: {exc}", file=sys.stderr)
            return 2
        print(f"luotsi: created {adviser.role} {adviser.username} ({adviser.city}, {adviser.languages})")
    return 0


def cmd_shifts_import(args: argparse.Namespace) -> int:
    from bot.services.shifts import ShiftError, do_import_shifts

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"luotsi: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    with _db_session(get_settings()) as session:
        try:
            count = do_import_shifts(session, text)
        except ShiftError as exc:
            print(f"luotsi: nothing imported — {exc}", file=sys.stderr)
            return 2
    print(f"luotsi: imported {count} shifts")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    counts = run_purge(settings)
    print(f"luotsi: purged {_counts_line(counts)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luotsi", description="Luotsi assistant and triage hub")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start Rasa, the action server and the hub")
    run.add_argument("--demo", action="store_true", help="seed a demo roster and demo adviser accounts")
    run.set_defaults(func=cmd_run)

    user = sub.add_parser("user", help="manage adviser accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create an adviser account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["adviser", "supervisor", "admin"])
    add.add_argument("--city", required=True, choices=["helsinki", "espoo", "vantaa"])
    add.add_argument("--languages", required=True, help="comma-separated language codes, e.g. fi,sv,en")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from standard input (never from the command line)")
    add.add_argument("--max-open-tickets", type=int, default=5)
    add.set_defaults(func=cmd_user_add)

    shifts_cmd = sub.add_parser("shifts", help="manage the shift roster").add_subparsers(dest="shifts_command", required=True)
    imp = shifts_cmd.add_parser("import", help="import shifts from CSV: city,queue,channel,starts_at,ends_at")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_shifts_import)

    purge = sub.add_parser("purge", help="delete what is past its retention period (LUOTSI_RETENTION_*_DAYS)")
    purge.set_defaults(func=cmd_purge)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
