"""The one typed HTTP client the actions use to reach the hub (its internal API)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import aiohttp


class HubUnavailable(Exception):
    pass


@dataclass(frozen=True)
class GuidanceStep:
    done: bool
    messages: List[Dict[str, Any]]  # {"text", "buttons": [{"title", "payload"}]}


@dataclass(frozen=True)
class HandoffResult:
    ticket_id: str
    queue: str
    status: str
    notice_text: str
    notice_buttons: List[Dict[str, str]]


class HubClient:
    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 5.0) -> None:
        self.base_url = (base_url or os.environ.get("LUOTSI_HUB_URL", "http://127.0.0.1:8000")).rstrip("/")
        self.token = token if token is not None else os.environ.get("LUOTSI_INTERNAL_TOKEN", "")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _post(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        headers = {"X-Luotsi-Internal-Token": self.token}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(f"{self.base_url}{path}", json=body, headers=headers) as response:
                    if response.status >= 400:
                        raise HubUnavailable(f"hub answered {response.status}")
                    data: Dict[str, Any] = await response.json()
                    return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnavailable(type(exc).__name__) from exc

    async def handoff(self, *, conversation_id: str, reason: str, topic: Optional[str]) -> HandoffResult:
        data = await self._post(
            "/internal/handoff", {"conversation_id": conversation_id, "reason": reason, "topic": topic}
        )
        return HandoffResult(
            ticket_id=data["ticket"]["id"], queue=data["ticket"]["queue"], status=data["ticket"]["status"],
            notice_text=data["notice"]["text"], notice_buttons=data["notice"].get("buttons") or [],
        )

    async def guidance(self, *, conversation_id: str, start: Optional[str] = None, text: Optional[str] = None,
                       role_hint: Optional[str] = None, topic: Optional[str] = None) -> GuidanceStep:
        """One turn of a guided conversation, run by the hub (bot/services/guidance.py)."""
        body: Dict[str, Any] = {"conversation_id": conversation_id, "start": start, "text": text,
                                "role_hint": role_hint, "topic": topic}
        data = await self._post("/internal/guidance", body)
        return GuidanceStep(done=bool(data["done"]), messages=list(data.get("messages") or []))
