"""Domain errors. Services raise these; only the API layer turns them into HTTP answers."""

from __future__ import annotations


class BadInput(Exception):
    """The client's input cannot be used. `key` names a localised explanation."""

    def __init__(self, code: str, key: str, language: str | None = None, status: int = 422) -> None:
        super().__init__(code)
        self.code = code
        self.key = key
        self.language = language
        self.status = status


class NotFound(Exception):
    """What the client names does not exist (a call, a step of the phone menu); answered 404."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
