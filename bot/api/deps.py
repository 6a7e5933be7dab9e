"""Dependencies: one database session per request; collaborators from the app state."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services.rasa import RasaClient


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


def get_rasa(request: Request) -> RasaClient:
    rasa: RasaClient = request.app.state.rasa
    return rasa


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
