"""A local stand-in for the Telegram Bot API: the part Luotsi uses, over real HTTP on loopback.

python-telegram-bot talks to it through `LUOTSI_TELEGRAM_API_URL` exactly as it talks to
api.telegram.org: `POST /bot<token>/<method>` with form-encoded (JSON-valued) parameters or
multipart, answers `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description"}`,
files under `/file/bot<token>/<path>`. getUpdates long-polls like the real one and treats an
offset as the acknowledgement of every update below it. Every call is recorded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.http_stub import serving

TOKEN = "123456:TEST-luotsi-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Luotsi", "username": "luotsi_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 0  # the HTTP status answered


@dataclass
class BotApi:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: int = 0  # every update id below this was confirmed by an offset
    blocked: set[int] = field(default_factory=set)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fail_sends: int = 0  # the next N sendMessage calls fail with 500 (a Bot API hiccup)
    webhook: dict[str, Any] = field(default_factory=dict)
    first_sent_at: dict[int, float] = field(default_factory=dict)  # chat → its first delivered message
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _next_message_id: int = 1000
    url: str = ""

    # --- test side ---------------------------------------------------------------------------

    def push(self, *updates: dict[str, Any]) -> None:
        with self._cond:
            self.updates.extend(updates)
            self._cond.notify_all()

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        self.files[file_id] = (path, data)

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self._cond:
            calls = list(self.calls)
        return [c.params for c in calls if c.method == method and c.status == 200
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def wait_for(self, predicate: Any, timeout: float = 20.0, what: str = "") -> Any:
        """Wait until `predicate()` returns something truthy; fail with what was sent so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        texts = [p.get("text", "")[:80] for p in self.sent()]
        raise AssertionError(f"timed out waiting for {what or predicate}; sendMessage so far: {texts}")

    def wait_sent(self, chat_id: int, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        return list(self.wait_for(lambda: len(self.sent(chat_id)) >= count and self.sent(chat_id), timeout,
                                  f"{count} messages to chat {chat_id}"))

    # --- server side -------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call; `sent()` counts only the calls that succeeded."""
        record = Call(method, params, time.monotonic())
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            answer: tuple[int, dict[str, Any]] = (404, {"ok": False, "error_code": 404,
                                                        "description": "Not Found: method not found"})
        else:
            result = handler(params)
            answer = result if isinstance(result, tuple) else (200, {"ok": True, "result": result})
        record.status = answer[0]
        with self._cond:
            self.calls.append(record)
        return answer

    def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)  # short polls keep the tests quick
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:
                self.acknowledged = max(self.acknowledged, offset)
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                if ready or time.monotonic() >= deadline:
                    break
                self._cond.wait(timeout=max(0.0, deadline - time.monotonic()))
            # the real API keeps unconfirmed updates and hands them out again
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return ready[:100]

    def _message(self, chat_id: int, **extra: Any) -> dict[str, Any]:
        self._next_message_id += 1
        return {"message_id": self._next_message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT, **extra}

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if self.fail_sends > 0:
            self.fail_sends -= 1
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        text = str(params.get("text", ""))
        if not text or len(text.encode("utf-16-le")) // 2 > 4096 + 200:  # escapes count before parsing
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
        self.first_sent_at.setdefault(chat_id, time.monotonic())
        return self._message(chat_id, text=text)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._message(int(params.get("chat_id") or 0), text="…")

    def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
        path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": path}


def _params(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    ctype = handler.headers.get("Content-Type", "")
    raw: dict[str, str] = {}
    if "application/json" in ctype:
        return dict(json.loads(body or b"{}"))
    if "multipart/form-data" in ctype:
        msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                raw[str(name)] = str(part.get_content())
    else:
        raw = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    query = {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query).items()}
    out: dict[str, Any] = {}
    for key, value in {**query, **raw}.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _handler(api: BotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # headers and body go out in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK hold every long-poll answer back ~40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = unquote(urlsplit(self.path).path)  # PTB sends the token's colon as %3A in file URLs
            if path.startswith("/file/bot"):
                rest = path[len("/file/bot"):]
                token, _, file_path = rest.partition("/")
                match = [data for p, data in api.files.values() if p == file_path]
                if token != api.token or not match:
                    self._send(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
                else:
                    self._send(200, match[0], "application/octet-stream")
                return
            if not path.startswith("/bot"):
                self._send(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
                return
            token, _, method = path[len("/bot"):].partition("/")
            if token != api.token:
                self._send(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
                return
            status, payload = api.call(method, _params(self, body))
            self._send(status, json.dumps(payload).encode())

        do_GET = _route
        do_POST = _route

    return Handler


@contextmanager
def running_bot_api(api: BotApi | None = None, port: int = 0) -> Iterator[BotApi]:
    api = api or BotApi()
    with serving(_handler(api), port) as base:
        api.url = f"{base}/bot"
        yield api


# --- updates shaped like Telegram's ----------------------------------------------------------

_ids = iter(range(500_000_000, 600_000_000))


def next_update_id() -> int:
    return next(_ids)


def user(user_id: int, language_code: str | None = "en", first_name: str = "Amina") -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        out["language_code"] = language_code
    return out


def private_chat(chat_id: int, first_name: str = "Amina") -> dict[str, Any]:
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def message_update(chat_id: int, text: str, *, language_code: str | None = "en", kind: str = "message",
                   chat: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": next_update_id() % 100000, "from": user(chat_id, language_code),
                               "chat": chat or private_chat(chat_id), "date": int(time.time()), **extra}
    if text:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    if kind == "edited_message":
        message["edit_date"] = int(time.time())
    return {"update_id": next_update_id(), kind: message}


def callback_update(chat_id: int, data: str, *, language_code: str | None = "en") -> dict[str, Any]:
    return {"update_id": next_update_id(), "callback_query": {
        "id": str(next_update_id()), "from": user(chat_id, language_code), "chat_instance": str(-chat_id),
        "data": data,
        "message": {"message_id": 1001, "from": BOT, "chat": private_chat(chat_id), "date": int(time.time()),
                    "text": "…"}}}
