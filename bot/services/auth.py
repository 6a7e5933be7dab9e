"""Adviser accounts, passwords (argon2), bearer tokens and console sessions, login throttling."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Adviser, AuthToken
from bot.models.desk import CITIES, ROLES
from nlu import langid

_hasher = PasswordHasher()
# Verifying against this keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("luotsi-no-such-user")


class AuthError(Exception):
    """Credentials or token not accepted."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class AccountError(ValueError):
    pass


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (a stolen database holds no usable token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_new_account(username: str, role: str, city: str, languages: str, password: str) -> list[str]:
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError("username: 1–64 letters, digits, '.', '-' or '_'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if city not in CITIES:
        raise AccountError(f"city must be one of {', '.join(CITIES)}")
    codes = [c.strip().lower() for c in languages.split(",") if c.strip()]
    if not codes or any(langid.normalise_hint(c) != c for c in codes):
        raise AccountError("languages: comma-separated codes such as fi,sv,en")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    return codes


def do_create_adviser(session: Session, *, username: str, role: str, city: str, languages: str,
                      password: str, now: datetime, max_open_tickets: int = 5) -> Adviser:
    codes = check_new_account(username, role, city, languages, password)
    adviser = Adviser(username=username, password_hash=_hasher.hash(password), role=role, city=city,
                      languages=",".join(codes), max_open_tickets=max_open_tickets, created_at=now)
    session.add(adviser)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise AccountError(f"username {username!r} is taken") from exc
    return adviser


class LoginThrottle:
    """Failed sign-ins slow down the pair that failed, not the advisory.

    - per (account, address) pair: at most `pair_limit` failures in `window` seconds — a guesser is
      stopped, while the adviser signs in from their own desk (a stranger cannot lock them out);
    - per address: a much higher ceiling, `address_limit` — everyone behind a city's proxy shares
      one address, so a low one would lock out a whole office (a fuzz run once locked every account
      for six minutes).
    """

    def __init__(self, pair_limit: int = 5, address_limit: int = 100, window: float = 300.0) -> None:
        self.limits = {"pair": pair_limit, "address": address_limit}
        self.window = window
        self._failures: dict[tuple[str, ...], list[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, ...]]:
        return [("pair", username, address), ("address", address)]

    def check(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(username, address):
                recent = [t for t in self._failures.get(key, []) if now - t < self.window]
                if recent:
                    self._failures[key] = recent
                else:
                    self._failures.pop(key, None)
                if len(recent) >= self.limits[key[0]]:
                    raise Throttled(int(self.window - (now - recent[0])) + 1)

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            for key in self._keys(username, address):
                self._failures.setdefault(key, []).append(time.monotonic())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("pair", username, address), None)


def check_credentials(session: Session, username: str, password: str) -> Adviser:
    adviser = session.scalars(select(Adviser).where(Adviser.username == username)).first()
    try:
        _hasher.verify(adviser.password_hash if adviser else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    if adviser is None or not adviser.active:
        raise AuthError("wrong username or password")
    return adviser


def do_issue_token(session: Session, adviser: Adviser, *, kind: str, now: datetime,
                   lifetime: timedelta) -> tuple[str, str | None]:
    """A new random token (returned once, stored hashed) and, for sessions, a CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    session.execute(delete(AuthToken).where(AuthToken.expires_at < now))
    session.add(AuthToken(token_hash=token_digest(token), adviser_id=adviser.id, kind=kind, csrf=csrf,
                          expires_at=now + lifetime))
    session.commit()
    return token, csrf


# built once: every authenticated request runs it
_BY_TOKEN = (select(Adviser, AuthToken).join(AuthToken, AuthToken.adviser_id == Adviser.id)
             .where(AuthToken.token_hash == bindparam("token_hash")))


def access_adviser_by_token(session: Session, token: str, *, kind: str, now: datetime) -> tuple[Adviser, AuthToken]:
    """The adviser a bearer token or console session belongs to (one query: every request asks)."""
    found = session.execute(_BY_TOKEN, {"token_hash": token_digest(token)}).first()
    if found is None or found.AuthToken.kind != kind or found.AuthToken.expires_at <= now:
        raise AuthError("token expired or unknown")
    if not found.Adviser.active:
        raise AuthError("account disabled")
    return found.Adviser, found.AuthToken


def do_revoke_token(session: Session, token: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    session.commit()
