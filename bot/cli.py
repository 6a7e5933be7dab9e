"""The `luotsi` command: `luotsi run` starts the whole stack under one supervisor.

Later issues add `luotsi user add` and `luotsi shifts import` here.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.config import ROOT, Settings, get_settings
from bot.db import migrate
from bot.services import rasa_store

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


HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"  # Debian puts it in /usr/sbin


def balancer_config(settings: Settings, hub_ports: list[int], rasa_ports: list[int]) -> str:
    """HAProxy in front of the hubs (LUOTSI_HTTP_PORT) and the Rasa servers (LUOTSI_RASA_URL's port).

    Health checks every second take a killed process out within about two seconds; a request whose
    connection is refused goes to another server (never one that reached a server: a chat turn is
    not repeated behind the customer's back). Server-sent events stay open through `timeout tunnel`."""
    hubs = "\n".join(f"    server hub{i} 127.0.0.1:{port} check inter 1s fall 2 rise 2"
                      for i, port in enumerate(hub_ports, 1))
    rasas = "\n".join(f"    server rasa{i} 127.0.0.1:{port} check inter 1s fall 2 rise 2"
                       for i, port in enumerate(rasa_ports, 1))
    return f"""# written by `luotsi run --hubs {len(hub_ports)} --rasa {len(rasa_ports)}`; edits are overwritten
global
    maxconn 8192

defaults
    mode http
    option httplog
    log stdout format raw local0 err
    option dontlognull
    timeout connect 2s
    timeout client 75s
    timeout server 75s
    timeout tunnel 1h
    timeout http-request 15s
    retries 2
    retry-on conn-failure
    option redispatch

frontend hubs
    bind {settings.http_host}:{settings.http_port}
    option forwardfor
    default_backend hubs

backend hubs
    balance leastconn
    option httpchk GET /healthz
{hubs}

frontend rasa
    bind 127.0.0.1:{httpx.URL(settings.rasa_url).port}
    default_backend rasa

backend rasa
    balance leastconn
    option httpchk GET /
{rasas}
"""


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
    hubs: int = 1
    rasas: int = 1

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
            **({"LUOTSI_REDIS_URL": self.settings.redis_url} if self.settings.redis_url else {}),
            **rasa_store.secrets_env(self.settings),
            # Rasa logs message texts at debug level; customers type identity codes and health
            # details, so its level is pinned here.
            LOG_LEVEL="INFO",
            RASA_TELEMETRY_ENABLED="false",  # no telemetry, no error reports to Sentry (nlu/runtime.py too)
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

    @property
    def clustered(self) -> bool:
        return self.hubs > 1 or self.rasas > 1

    def hub_ports(self) -> list[int]:
        """One hub on LUOTSI_HTTP_PORT; in a cluster the load balancer takes that port and the hubs
        the ports after it."""
        port = self.settings.http_port
        return [port + 1 + i for i in range(self.hubs)] if self.clustered else [port]

    def rasa_ports(self) -> list[int]:
        """One Rasa on LUOTSI_RASA_URL's port; in a cluster the load balancer takes it and the Rasa
        servers the ports after it."""
        port = _port(self.settings.rasa_url)
        return [port + 1 + i for i in range(self.rasas)] if self.clustered else [port]

    def check_cluster(self) -> None:
        """Several processes share state only through PostgreSQL and Redis."""
        if not self.clustered:
            return
        if not self.settings.database_url.startswith("postgresql"):
            raise SystemExit("luotsi: --hubs/--rasa above 1 need LUOTSI_DATABASE_URL on PostgreSQL "
                             "(SQLite takes one writer process)")
        if not self.settings.redis_url:
            raise SystemExit("luotsi: --hubs/--rasa above 1 need LUOTSI_REDIS_URL (Rasa's lock store, live events)")
        if not Path(HAPROXY).is_file():
            raise SystemExit("luotsi: --hubs/--rasa above 1 need HAProxy (Debian: apt-get install haproxy)")

    def prepare(self) -> None:
        """Checks before anything starts: the cluster's requirements, free ports, the schema."""
        self.check_cluster()
        ports = [(self.settings.http_host, self.settings.http_port), ("127.0.0.1", self.settings.actions_port),
                 (self.settings.smtp_host, self.settings.smtp_port), ("127.0.0.1", _port(self.settings.rasa_url))]
        if self.clustered:
            ports += [("127.0.0.1", p) for p in self.hub_ports() + self.rasa_ports()]
        for host, port in ports:
            check_port_free(host, port)
        migrate(self.settings.database_url)

    def commands(self) -> list[tuple[str, list[str]]]:
        """Every process of the deployment as (name, argv), in the order they start."""
        out: list[tuple[str, list[str]]] = [
            ("actions", [*RASA_RUN, "run", "actions", "--port", str(self.settings.actions_port),
                         "--actions", "actions"]),
        ]
        rasa_ports, hub_ports = self.rasa_ports(), self.hub_ports()
        for i, port in enumerate(rasa_ports, 1):
            # Rasa's HTTP API secret travels in the environment (LUOTSI_RASA_TOKEN), never on a command line
            out.append((f"rasa{i}" if self.clustered else "rasa", self.rasa_argv(port)))
        out.append(("mail", [sys.executable, "-m", "integrations.email.server"]))
        if self.settings.telegram_token:
            out.append(("telegram", [sys.executable, "-m", "integrations.telegram.worker"]))
        for i, port in enumerate(hub_ports, 1):
            host = "127.0.0.1" if self.clustered else self.settings.http_host
            out.append((f"hub{i}" if self.clustered else "hub", self.hub_argv(host, port)))
        if self.clustered:
            out.append(("balancer", [HAPROXY, "-W", "-db", "-f", str(self.balancer_file())]))
        return out

    def hub_argv(self, host: str, port: int) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", host,
                "--port", str(port), "--no-access-log", "--proxy-headers", "--forwarded-allow-ips",
                self.settings.trusted_proxies]

    def balancer_file(self) -> Path:
        """HAProxy's configuration for this cluster, written under var/run/ at each start."""
        path = ROOT / "var" / "run" / f"haproxy-{self.settings.http_port}.cfg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(balancer_config(self.settings, self.hub_ports(), self.rasa_ports()), encoding="utf-8")
        return path

    def start(self) -> None:
        self.prepare()
        for name, argv in self.commands():
            self._spawn(name, argv)

    def endpoints_file(self) -> Path:
        """Rasa's endpoints for this deployment (action server, tracker store, lock store), written
        under var/run/ at each start; passwords stay in the environment (bot/services/rasa_store.py)."""
        path = ROOT / "var" / "run" / f"endpoints-{_port(self.settings.rasa_url)}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(rasa_store.endpoints(self.settings, self.actions_url), sort_keys=False)
        path.write_text("# written by `luotsi run` from the LUOTSI_ settings; edits are overwritten\n" + body,
                        encoding="utf-8")
        return path

    def rasa_argv(self, port: int) -> list[str]:
        return [*RASA_RUN, "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
                "--model", str(self.model), "--endpoints", str(self.endpoints_file()),
                "--credentials", "credentials.yml"]

    def restart(self, name: str, *, kill: bool = False) -> None:
        """Stop one process (SIGKILL with `kill`, as a crash) and start it again (fault-injection tests)."""
        self.halt(name, kill=kill)
        self.respawn(name)

    def halt(self, name: str, *, kill: bool = False) -> None:
        proc = self.processes[name]
        if proc.poll() is None:
            if kill:
                proc.kill()
            else:
                proc.terminate()
            proc.wait(timeout=30)

    def respawn(self, name: str) -> None:
        """Start a stopped process again with the command it had. Call it from the thread that
        started the stack: a child is sent SIGTERM when the thread that spawned it ends."""
        proc = self.processes[name]
        if proc.poll() is None:
            raise RuntimeError(f"{name} is still running")
        self._spawn(name, [str(a) for a in proc.args])  # type: ignore[union-attr]

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Block until every hub says it is ready (database and Rasa with its model answer), every
        Rasa server has its model and the action server answers; then warm each Rasa up."""
        deadline = time.monotonic() + timeout
        last: str | None = "not started"
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
            try:
                last = self._not_ready()
                if last is None:
                    self._warm_up_rasa()
                    return
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(1)
        raise TimeoutError(f"stack not ready after {timeout:.0f} s: {last}")

    def _not_ready(self) -> str | None:
        for port in self.hub_ports():
            r = httpx.get(f"http://{self.settings.http_host if not self.clustered else '127.0.0.1'}:{port}/readyz",
                          timeout=2)
            if r.status_code != 200:
                return "; ".join(r.json().get("problems", [])) or f"hub on {port} not ready"
        for port in self.rasa_ports():
            r = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)  # "Hello from Rasa"
            if r.status_code != 200:
                return f"rasa on {port} not ready"
        if httpx.get(f"{self.actions_url}/health", timeout=2).status_code != 200:
            return "action server not ready"
        if self.clustered and httpx.get(f"{self.hub_url}/healthz", timeout=2).status_code != 200:
            return "load balancer not ready"
        return None

    def _warm_up_rasa(self) -> None:
        """Rasa's first message after loading a model takes ~2 s (lazy imports, first action
        connection); one message from the supervisor keeps that off the first customer."""
        for port in self.rasa_ports():
            for text, language in (("hei", "fi"), ("hello", "en"), ("مرحبا", "ar")):
                # with the language decided, as the hub sends it: Rasa then loads no detector models
                httpx.post(
                    f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                    json={"sender": f"luotsi-warm-up-{port}", "message": text, "metadata": {"language": language}},
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


def run_purge(settings: Settings, *, rasa_token: str | None = None,
              every: float | None = None) -> dict[str, int] | None:
    """One retention purge (bot/services/retention.py) with its own engine, once across every
    process on the database (a cluster-wide lock); the purged conversations are deleted from Rasa's
    tracker store too (bot/services/rasa_store.py). None when another process is purging, or — with
    `every` seconds — when the last purge is more recent than that."""
    from datetime import datetime, timedelta, timezone

    from bot.db import make_engine
    from bot.services.rasa_store import TrackerForgetter
    from bot.services.retention import do_purge_once

    engine = make_engine(settings.database_url)
    forget = TrackerForgetter(settings, engine)
    try:
        return do_purge_once(engine, settings, now=datetime.now(timezone.utc), forget=forget,
                             every=timedelta(seconds=every) if every is not None else None)
    finally:
        forget.close()
        engine.dispose()


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


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
                counts = run_purge(self.settings, rasa_token=self.rasa_token, every=self.every)
                if counts is None:  # not due yet, or another process of the cluster is purging
                    continue
                print(f"luotsi: retention purge: {_counts_line(counts)}", flush=True)
            except Exception as exc:  # the stack keeps running; the next check tries again
                print(f"luotsi: retention purge failed ({type(exc).__name__}); trying again later", flush=True)

    def stop(self) -> None:
        self.stopping.set()


def cmd_run(args: argparse.Namespace) -> int:
    """Start every process and supervise them with honcho's process manager: their output is
    multiplexed with a name prefix, Ctrl-C or SIGTERM stops them all, and when one stops
    unexpectedly the rest are stopped too (the caller — systemd, a shell — decides about restarts)."""
    from honcho.manager import Manager
    from honcho.printer import Printer

    settings = get_settings()
    if args.demo or settings.demo:
        refusal = check_demo_allowed(settings)
        if refusal:
            print(f"luotsi: {refusal}", file=sys.stderr, flush=True)
            return 2
    stack = Stack(settings=settings, model=Path("."), hubs=args.hubs, rasas=args.rasa)
    stack.check_cluster()
    demo_lines = seed_demo(settings) if args.demo or settings.demo else []
    print("luotsi: checking the Rasa model…", flush=True)
    stack.model = ensure_model()
    stack.prepare()
    manager = Manager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    env = stack._env()
    for name, argv in stack.commands():
        manager.add_process(name, shlex.join(argv), env=env, cwd=str(ROOT))
    purge = DailyPurge(settings, rasa_token=stack.rasa_token)
    what = (f"{stack.hubs} hubs and {stack.rasas} Rasa servers behind HAProxy" if stack.clustered
            else "the action server, Rasa and the hub")
    print(f"luotsi: starting {what} (Rasa takes ~30 s to load)…", flush=True)

    def announce() -> None:
        try:
            stack.wait_ready()
        except (TimeoutError, RuntimeError) as exc:
            print(f"luotsi: not ready: {exc}", flush=True)
            return
        purge.start()
        print(ready_text(settings, stack), flush=True)
        if demo_lines:
            print("Demo adviser accounts (username, password, role, city, languages) — demo roster: the\n"
                  "employer advisory rotates between Helsinki, Espoo and Vantaa, Mon–Fri "
                  f"{settings.opening_hours.split()[-1]} Finnish time:")
            print("\n".join(demo_lines), flush=True)

    threading.Thread(target=announce, name="luotsi-ready", daemon=True).start()
    try:
        manager.loop()
    finally:
        purge.stop()
        print("luotsi: stopped.", flush=True)
    return 0 if manager.returncode in (None, 0, 130, 143) else 1


def ready_text(settings: Settings, stack: Stack) -> str:
    base = settings.base_url
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    return (
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
        f"  Rasa              {settings.rasa_url}"
        + (f"  (load balancer for {', '.join(str(p) for p in stack.rasa_ports())})\n" if stack.clustered else "\n")
        + (f"  hubs              ports {', '.join(str(p) for p in stack.hub_ports())} behind HAProxy on "
           f"{settings.http_port}\n" if stack.clustered else "")
        + f"  database          {database}\n"
        + f"  Redis             {'on' if settings.redis_url else 'off (one process of each)'}\n"
        "Press Ctrl-C to stop.\n"
    )


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
    if counts is None:
        print("luotsi: a purge is running in another process; nothing done")
        return 0
    print(f"luotsi: purged {_counts_line(counts)}")
    return 0


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 1 <= n <= 16:
        raise argparse.ArgumentTypeError("from 1 to 16")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luotsi", description="Luotsi assistant and triage hub")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start Rasa, the action server and the hub")
    run.add_argument("--demo", action="store_true", help="seed a demo roster and demo adviser accounts")
    run.add_argument("--hubs", type=_count, default=1, metavar="N",
                     help="hub processes behind HAProxy (above 1: PostgreSQL and Redis needed)")
    run.add_argument("--rasa", type=_count, default=1, metavar="M",
                     help="Rasa servers behind HAProxy (above 1: PostgreSQL and Redis needed)")
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
