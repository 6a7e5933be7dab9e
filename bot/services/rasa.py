"""The one way the hub talks to Rasa: its REST channel, its NLU parse and its status endpoint.

A turn asks Rasa with an async client and an overall time-out, so a waiting turn holds neither a
thread nor a database connection. Rasa's answers come back in its own response: catalogue keys
and the decisions of its actions as `custom` payloads (actions/commands.py), which the hub
carries out and renders (bot/services/conversations.py); nothing calls back into the hub.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.messages import Button, OutboundMessage
from bot.services import metrics

log = logging.getLogger(__name__)
COMMAND_KEY = "luotsi"  # the discriminator of the actions' and responses' custom payloads


def bearer_token(secret: str, *, now: float | None = None, lifetime: int = 300) -> str:
    """A short-lived HS256 JWT for Rasa's HTTP API (Rasa runs with the same secret as its JWT secret,
    nlu/runtime.py): the secret itself never travels, and the token goes in a header, not a URL."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    issued = int(now if now is not None else time.time())
    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = part(json.dumps({"user": {"username": "luotsi-hub", "role": "admin"}, "iat": issued,
                            "exp": issued + lifetime}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass(frozen=True)
class Command:
    """A decision in Rasa's answer: `say` a catalogue key, `handoff`, a `guidance` step, …"""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


Answer = OutboundMessage | Command


@dataclass
class RasaClient:
    base_url: str
    timeout: float
    token: str | None = None
    max_connections: int = 64
    _client: httpx.Client | None = None
    _async: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 1.0)),
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
            )
        return self._client

    @property
    def async_client(self) -> httpx.AsyncClient:
        if self._async is None:
            self._async = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 1.0)),
                limits=httpx.Limits(max_connections=self.max_connections,
                                    max_keepalive_connections=self.max_connections),
            )
        return self._async

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[Answer]:
        """Hand one message to the assistant; its answers, within the time-out or RasaUnavailable."""
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self.async_client.post("/webhooks/rest/webhook",
                                       json={"sender": sender, "message": text, "metadata": metadata}),
                timeout=self.timeout,
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError, asyncio.TimeoutError) as exc:
            log.warning("rasa.unavailable error=%s", type(exc).__name__)
            metrics.observe_rasa(time.monotonic() - started, metrics.rasa_error_kind(exc))
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(payload, list):
            metrics.observe_rasa(time.monotonic() - started, "invalid")
            raise RasaUnavailable("not a list")
        metrics.observe_rasa(time.monotonic() - started, None if payload else "empty")
        return [parse_reply(item) for item in payload if isinstance(item, dict)]

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {bearer_token(self.token)}"} if self.token else {}

    def parse(self, text: str) -> tuple[str | None, float]:
        """The assistant's NLU on a text (Rasa's /model/parse): the intent and its confidence."""
        try:
            response = self.client.post("/model/parse", headers=self._auth(), json={"text": text[:2000]})
            response.raise_for_status()
            intent = response.json().get("intent") or {}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("rasa.parse_unavailable error=%s", type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        name = intent.get("name")
        return (str(name) if name else None), float(intent.get("confidence") or 0.0)

    def forget(self, conversation_id: str) -> bool:
        """Empty the conversation's tracker in Rasa (an erasure or a retention purge): its events are
        replaced by none. True when Rasa confirmed it; False when it could not be reached or refused."""
        try:
            response = self.client.put(f"/conversations/{conversation_id}/tracker/events",
                                       headers=self._auth(), json=[])
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("rasa.forget_failed error=%s", type(exc).__name__)
            return False
        return True

    async def status(self) -> str | None:
        """None when Rasa is up with a model loaded, else why not."""
        try:
            response = await asyncio.wait_for(self.async_client.get("/status", headers=self._auth()), timeout=1.0)
        except (httpx.HTTPError, asyncio.TimeoutError) as exc:
            return f"rasa unreachable ({type(exc).__name__})"
        if response.status_code != 200:
            return f"rasa answered {response.status_code}"
        try:
            body = response.json()
        except ValueError:
            return "rasa answered non-JSON"
        if not body.get("model_file"):
            return "rasa has no model loaded"
        return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        self.close()
        if self._async is not None:
            await self._async.aclose()
            self._async = None


def parse_reply(item: dict[str, Any]) -> Answer:
    """One element of Rasa's REST answer: a command (custom payload) or a plain text with buttons."""
    custom = item.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get(COMMAND_KEY), str):
        return Command(name=custom[COMMAND_KEY], args={k: v for k, v in custom.items() if k != COMMAND_KEY})
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if isinstance(b, dict)
    )
    return OutboundMessage(text=str(item.get("text") or ""), buttons=buttons)
