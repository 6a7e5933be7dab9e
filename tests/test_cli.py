"""The `luotsi` command: demo seeding on an empty database, user add, shifts import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from bot.cli import DEMO_ACCOUNTS, check_demo_allowed, seed_demo
from bot.config import Settings


def _luotsi(db: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env={"LUOTSI_DATABASE_URL": db, "PATH": "/usr/bin:/bin"}, timeout=60)


def test_demo_seed_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    lines = seed_demo(Settings(database_url=url))
    assert len(lines) == len(DEMO_ACCOUNTS)
    assert seed_demo(Settings(database_url=url)) == lines  # a second start changes nothing
    with create_engine(url).connect() as db:
        cities = {r[0] for r in db.execute(text("SELECT DISTINCT city FROM shift WHERE queue='employer_advisory'"))}
        accounts = db.execute(text("SELECT count(*) FROM adviser")).scalar()
    assert cities == {"helsinki", "espoo", "vantaa"}  # the employer advisory rotates
    assert accounts == len(DEMO_ACCOUNTS)


def test_user_add_and_shift_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = _luotsi(url, "user", "add", "anna", "--role", "adviser", "--city", "espoo", "--languages", "fi,en",
                 "--password-stdin", stdin="a-long-password\n")
    assert ok.returncode == 0, ok.stderr
    assert "a-long-password" not in ok.stdout + ok.stderr
    again = _luotsi(url, "user", "add", "anna", "--role", "adviser", "--city", "espoo", "--languages", "fi",
                    "--password-stdin", stdin="another-password\n")
    assert again.returncode == 2 and "taken" in again.stderr
    weak = _luotsi(url, "user", "add", "bob", "--role", "adviser", "--city", "espoo", "--languages", "fi",
                   "--password-stdin", stdin="short\n")
    assert weak.returncode == 2
    roster = tmp_path / "roster.csv"
    roster.write_text("city,queue,channel,starts_at,ends_at\nvantaa,employer_advisory,,2026-12-01T08:00,2026-12-01T16:00\n")
    assert _luotsi(url, "shifts", "import", str(roster)).returncode == 0
    roster.write_text("city,queue\nvantaa,employer_advisory\n")
    bad = _luotsi(url, "shifts", "import", str(roster))
    assert bad.returncode == 2 and "header" in bad.stderr
    assert _luotsi(url, "shifts", "import", str(tmp_path / "missing.csv")).returncode == 2


def _run_demo(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    db = tmp_path / "demo.db"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--demo"], capture_output=True, text=True, timeout=60,
                          env={"LUOTSI_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin", **env})
    return done, db


def test_demo_data_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    done, db = _run_demo(tmp_path, LUOTSI_HTTP_HOST="0.0.0.0")
    assert done.returncode == 2
    assert "refusing to start with demo data" in done.stderr and "LUOTSI_HTTP_HOST=0.0.0.0" in done.stderr
    assert done.stdout == "" and not db.exists()  # nothing seeded, nothing started


def test_demo_data_refuses_an_https_public_url(tmp_path: Path) -> None:
    done, db = _run_demo(tmp_path, LUOTSI_PUBLIC_URL="https://luotsi.example.fi")
    assert done.returncode == 2
    assert "refusing to start with demo data" in done.stderr and "https://luotsi.example.fi" in done.stderr
    assert done.stdout == "" and not db.exists()


def test_demo_data_is_allowed_only_on_loopback() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert check_demo_allowed(Settings(http_host=host)) is None, host
        assert check_demo_allowed(Settings(http_host=host, public_url="http://127.0.0.1:8000")) is None, host
    for host in ("0.0.0.0", "::", "10.0.0.5", "192.168.1.20", "luotsi.example.fi"):
        assert check_demo_allowed(Settings(http_host=host)), host
    assert check_demo_allowed(Settings(public_url="HTTPS://luotsi.example.fi"))


# --- issue 16: Rasa's state outside Rasa, and a cluster behind HAProxy ---

def test_rasa_keeps_its_state_in_sql_and_locks_in_redis_without_secrets_in_files(tmp_path: Path) -> None:
    from bot.cli import Stack
    from bot.config import Settings

    single = Stack(settings=Settings(database_url=f"sqlite:///{tmp_path / 'luotsi.db'}"), model=Path("m"))
    endpoints = yaml.safe_load(single.endpoints_file().read_text())
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "luotsi-rasa.db")}
    assert "lock_store" not in endpoints  # one Rasa: its in-memory lock store
    assert endpoints["action_endpoint"]["url"].endswith("/webhook")

    settings = Settings(database_url="postgresql+psycopg://luotsi:s3cret-pw@db.internal:6543/luotsi?sslmode=require",
                        redis_url="redis://:r3dis-pw@cache.internal:6380/2", rasa_url="http://127.0.0.1:15005")
    stack = Stack(settings=settings, model=Path("m"), hubs=2, rasas=2)
    text = stack.endpoints_file().read_text()
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 6543,
                                          "db": "luotsi", "username": "luotsi",
                                          "password": "${LUOTSI_TRACKER_PASSWORD}", "query": {"sslmode": "require"}}
    assert endpoints["lock_store"] == {"type": "nlu.lock_store.ResilientLockStore", "url": "cache.internal", "port": 6380, "db": 2,
                                       "key_prefix": "luotsi", "use_ssl": False, "password": "${LUOTSI_LOCK_PASSWORD}"}
    assert "s3cret-pw" not in text and "r3dis-pw" not in text
    env = stack._env()
    assert env["LUOTSI_TRACKER_PASSWORD"] == "s3cret-pw" and env["LUOTSI_LOCK_PASSWORD"] == "r3dis-pw"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"  # no telemetry, no crash reports to Sentry
    assert all("s3cret-pw" not in " ".join(argv) for _, argv in stack.commands())


def test_a_cluster_puts_haproxy_in_front_of_the_hubs_and_rasa_on_the_configured_ports(tmp_path: Path) -> None:
    from bot.cli import Stack, balancer_config
    from bot.config import Settings

    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:5432/x", redis_url="redis://127.0.0.1:6379/0",
                        http_port=18000, rasa_url="http://127.0.0.1:15005", actions_port=15055, smtp_port=12525)
    stack = Stack(settings=settings, model=Path("m"), hubs=2, rasas=3)
    assert stack.hub_ports() == [18001, 18002] and stack.rasa_ports() == [15006, 15007, 15008]
    names = [name for name, _ in stack.commands()]
    assert names == ["actions", "rasa1", "rasa2", "rasa3", "mail", "hub1", "hub2", "balancer"]
    config = balancer_config(settings, stack.hub_ports(), stack.rasa_ports())
    assert "bind 127.0.0.1:18000" in config and "bind 127.0.0.1:15005" in config
    assert config.count("server hub") == 2 and config.count("server rasa") == 3
    assert "option httpchk GET /healthz" in config and "retry-on conn-failure" in config
    one = Stack(settings=settings, model=Path("m"))
    assert one.hub_ports() == [18000] and one.rasa_ports() == [15005]
    assert [name for name, _ in one.commands()] == ["actions", "rasa", "mail", "hub"]


def test_a_cluster_refuses_sqlite_and_a_missing_redis(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--hubs", "2"], capture_output=True, text=True,
                         timeout=60, env={"PATH": os.environ["PATH"], "LUOTSI_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert out.returncode != 0 and "PostgreSQL" in out.stderr + out.stdout
    out = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--rasa", "2"], capture_output=True, text=True,
                         timeout=60, env={"PATH": os.environ["PATH"],
                                          "LUOTSI_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"})
    assert out.returncode != 0 and "LUOTSI_REDIS_URL" in out.stderr + out.stdout
    out = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--hubs", "0"], capture_output=True, text=True,
                         timeout=60, env={"PATH": os.environ["PATH"]})
    assert out.returncode == 2 and "from 1 to 16" in out.stderr
