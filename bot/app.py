"""Composition root: the only place that knows the concrete channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from bot.api import auth, employer, guidance, health, language, metrics, privacy, tickets
from bot.api.errors import install_error_handlers
from bot.api.headers import SecurityHeaders
from bot.api.limits import BodyLimit
from bot.api.ratelimit import ChatLimits, SlidingWindow
from bot.config import Settings, get_settings
from bot.console import pages as console
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import catalogues
from bot.services import employer_flow, employer_texts
from bot.services.auth import LoginThrottle
from bot.services.conversations import TurnGate
from bot.services.events import install_change_events, make_event_bus
from bot.services.guidance import GuidanceContext
from bot.services.guidance_texts import guidance as guidance_texts
from bot.services.metrics import load_response_targets
from bot.services.quick_claim import QuickClaims
from bot.services.rasa import RasaClient
from bot.services.rasa_store import TrackerForgetter
from bot.services.service_needs import load_rules
from bot.services.translation import Translator
from bot.services.waiting import with_answered_notice
from bot.web import employer as employer_web
from bot.web import feedback as feedback_web
from integrations.email.delivery import EmailDeliverer
from integrations.email.notice import NoticeMailer
from integrations.phone import api as phone_api
from integrations.telegram import webhook as telegram_webhook
from integrations.telegram.delivery import TelegramDeliverer
from integrations.webchat import api as webchat_api
from integrations.webchat import live as webchat_live
from nlu import langid


def warm_up_texts() -> None:
    for code in catalogues():
        guidance_texts(code)
        employer_texts.texts(code)
        employer_flow.texts(code)
    load_rules()


def warm_up_routes(app: FastAPI) -> None:
    """FastAPI builds each included router's route table (a pydantic schema per parameter) on the
    first request that reaches it, under a lock: the first burst of customers after a start waited
    on it (~0.2 s on two cores). Built here instead; a FastAPI without this lazy table skips it."""
    for route in app.router.routes:
        for build in ("effective_candidates", "effective_low_priority_routes"):
            method = getattr(route, build, None)
            if callable(method):
                method()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.database_url)
        await run_in_threadpool(load_response_targets, app.state.sessionmaker)  # for SLA breaches at claim time
        await run_in_threadpool(langid.warm_up)
        # Parsed once before the first customer: the caches do not lock, so a burst of first
        # turns would otherwise parse every catalogue once per thread, all at the same time.
        await run_in_threadpool(warm_up_texts)
        warm_up_routes(app)
        await app.state.events.start()
        if app.state.quick_claims is not None:
            await app.state.quick_claims.open()
        yield
        if app.state.quick_claims is not None:
            await app.state.quick_claims.aclose()
        await app.state.events.aclose()
        await app.state.rasa.aclose()
        app.state.forget.close()
        app.state.engine.dispose()

    app = FastAPI(
        title="Luotsi",
        description="Multilingual assistant and triage hub of the Espoo–Kauniainen employment services.",
        version="0.1.0",
        lifespan=lifespan,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # what this hub's sessions commit wakes the live streams (here, and on other hubs through Redis)
    app.state.events = make_event_bus(settings)
    install_change_events(app.state.sessionmaker, app.state.events)
    # claim-next in one statement on PostgreSQL (the advisory's busiest write); None: the full path
    app.state.quick_claims = (QuickClaims(settings.database_url, app.state.events)
                              if engine.dialect.name == "postgresql" else None)
    app.state.login_throttle = LoginThrottle()
    # channels whose replies must be pushed; the web chat pulls its own over its live stream. A web
    # or Telegram customer who left an e-mail address while waiting also gets one notice e-mail.
    app.state.deliverers = with_answered_notice({"email": EmailDeliverer(settings), "telegram": TelegramDeliverer()},
                                                NoticeMailer(settings))
    app.state.rasa = RasaClient(settings.rasa_url, settings.rasa_timeout, settings.rasa_token,
                                max_connections=settings.max_turns)
    app.state.turns = TurnGate(settings.max_turns)
    app.state.forget = TrackerForgetter(settings, engine)  # erasure deletes Rasa's tracker too
    app.state.chat_limits = ChatLimits(settings.chat_rate_per_conversation, settings.chat_rate_per_address)
    app.state.employer_limits = SlidingWindow(settings.employer_rate_per_address)  # employers' forms and API
    app.state.turn_context = GuidanceContext.from_settings(settings)
    app.state.translator = Translator.from_setting(settings.translator, timeout=settings.translator_timeout,
                                                   api_key=settings.translator_api_key, mask=settings.translator_mask)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(language.router)
    app.include_router(auth.router)
    app.include_router(tickets.router)
    app.include_router(guidance.router)
    app.include_router(privacy.router)
    app.include_router(metrics.router)
    app.include_router(employer.router)
    app.include_router(employer_web.router)
    app.include_router(feedback_web.router)
    console.install(app)
    app.include_router(webchat_api.router)
    app.include_router(webchat_live.router)
    app.include_router(phone_api.router)
    if settings.telegram_token and settings.telegram_mode == "webhook":
        app.include_router(telegram_webhook.router)
    logging.getLogger("bot").setLevel(logging.INFO)
    return app
