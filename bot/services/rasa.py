"""The one way the hub talks to Rasa: its REST channel and its status endpoint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.messages import Button, OutboundMessage

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass
class RasaClient:
    base_url: str
    timeout: float
    token: str | None = None
    _client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 0.5)),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            )
        return self._client

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        """Hand one message to the assistant; its answers, already rendered by our NLG."""
        try:
            response = self.client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("rasa.unavailable error=%s", type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        return [parse_reply(item) for item in payload if isinstance(item, dict)]

    def parse(self, text: str) -> tuple[str | None, float]:
        """The assistant's NLU on a text (Rasa's /model/parse): the intent and its confidence."""
        try:
            response = self.client.post("/model/parse", params={"token": self.token} if self.token else None,
                                        json={"text": text[:2000]})
            response.raise_for_status()
            intent = response.json().get("intent") or {}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("rasa.parse_unavailable error=%s", type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        name = intent.get("name")
        return (str(name) if name else None), float(intent.get("confidence") or 0.0)

    def status(self) -> str | None:
        """None when Rasa is up with a model loaded, else why not."""
        try:
            params = {"token": self.token} if self.token else None
            response = self.client.get("/status", params=params, timeout=1.0)
        except httpx.HTTPError as exc:
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


def parse_reply(item: dict[str, Any]) -> OutboundMessage:
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if isinstance(b, dict)
    )
    return OutboundMessage(text=str(item.get("text") or ""), buttons=buttons)
