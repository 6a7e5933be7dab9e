"""The `luotsi` command: demo seeding on an empty database, user add, shifts import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
