"""One settings object, read from the environment (prefix LUOTSI_). Everything else receives it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUOTSI_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR / 'luotsi.db'}")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed; the client
    # address of everyone else is the connection's own. Sign-in throttling and rate limits count by it.
    trusted_proxies: str = "127.0.0.1"
    rasa_url: str = "http://127.0.0.1:5005"
    # The whole Rasa call must fit in the two seconds the customer is promised an answer in.
    rasa_timeout: float = 1.5
    # Assistant turns one hub process has in flight at most; beyond it a customer is told at once
    # that the assistant is busy and the message is kept. About what Rasa answers in one time-out
    # on two cores (docs/benchmarks.md): more would only wait for Rasa and time out.
    max_turns: int = 48
    # Messages a minute to POST /api/chat: per conversation, and per client address (loopback exempt)
    chat_rate_per_conversation: int = 20
    chat_rate_per_address: int = 60
    employer_rate_per_address: int = 10  # employers' intake submissions (API and form) a minute
    # Guards Rasa's HTTP API (trackers, model); `luotsi run` makes a random one when unset.
    rasa_token: str | None = None
    actions_port: int = 5055
    redis_url: str | None = None
    smtp_port: int = 2525
    mailboxes: str = (
        "employers@luotsi.localhost=employer_advisory,jobseekers@luotsi.localhost=jobseeker_espoo"
    )
    smtp_relay: str | None = None
    smtp_host: str = "127.0.0.1"
    # Largest accepted message (bytes); bigger ones get 552 during DATA.
    smtp_max_bytes: int = 20 * 1024 * 1024
    # How long a writer waits for a locked SQLite database before giving up (451 for mail).
    db_busy_seconds: float = 15.0
    telegram_token: str | None = None
    # python-telegram-bot's base_url form: the token is appended (or put where "{token}" stands)
    telegram_api_url: str = "https://api.telegram.org/bot"
    # where files are downloaded from; derived from telegram_api_url ("/bot" → "/file/bot") when unset
    telegram_file_url: str | None = None
    # "polling" (getUpdates, the default) or "webhook" (Telegram posts to /telegram/webhook on the hub)
    telegram_mode: Literal["polling", "webhook"] = "polling"
    # the public HTTPS address Telegram posts to in webhook mode (default: LUOTSI_PUBLIC_URL + path)
    telegram_webhook_url: str | None = None
    # the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; required in webhook mode
    telegram_webhook_secret: str | None = None
    telegram_poll_timeout: int = 25
    # messages per second to all chats together (Telegram's broadcast limit is about 30)
    telegram_rate_limit: float = 30.0
    # biggest photo or document kept (the Bot API lets bots download up to 20 MB)
    telegram_max_file_bytes: int = 20 * 1024 * 1024
    phone_auth_token: str | None = None
    # the number each city answers a queue on: "employer_advisory.helsinki=+358…,jobseeker_espoo.espoo=+358…"
    # (the real numbers of the joint advisory are not public: configuration, never code)
    phone_numbers: str = ""
    # languages the provider's text-to-speech speaks (language=its TwiML `language` attribute); check
    # these against the provider's voice list — the others use recordings or, without, English
    phone_voices: str = "fi=fi-FI,sv=sv-SE,en=en-GB,ru=ru-RU,uk=uk-UA,ar=arb"
    # recorded prompts for the languages without a voice: "so=https://…/so/{key}.mp3,et=…"
    phone_recordings: str = ""
    translator: str = "none"
    # seconds the translator waits before a message goes through untranslated (marked)
    translator_timeout: float = 2.0
    translator_api_key: str | None = None
    # personal data that never reaches the translation backend and is not copied into translations
    # (hetu = personal identity code, iban, email, phone); identity codes are always masked
    translator_mask: str = "hetu,iban"
    max_text_chars: int = 5000
    # The advisory's opening hours (Europe/Helsinki); shifts in the roster decide who answers.
    opening_hours: str = "mon-fri 08:00-16:00"
    # The two windows a customer chooses from for a callback (Europe/Helsinki), as "name=HH:MM-HH:MM".
    # The joint advisory's hours are not public: configuration, never code (bot/services/callbacks.py).
    callback_windows: str = "morning=08:00-12:00,afternoon=12:00-16:00"
    # The employment area whose jobseeker-advice queue Luotsi's own channels feed.
    home_area: str = "espoo"
    token_hours: int = 8
    session_minutes: int = 60
    reopen_days: int = 7
    # Retention (days; `luotsi purge` and the daily run of `luotsi run` delete what is older; the
    # README says why these defaults). Open tickets and their conversations are never purged.
    retention_conversation_days: int = Field(default=90, ge=1)  # conversations without a ticket, since last message
    retention_ticket_days: int = Field(default=365, ge=1)  # closed tickets, since closing
    retention_mail_days: int = Field(default=90, ge=1)  # raw inbound mail (its text stays in the transcript)
    retention_attachment_days: int = Field(default=365, ge=1)
    retention_call_days: int = Field(default=90, ge=1)  # phone calls' menu records
    retention_telegram_days: int = Field(default=30, ge=1)  # processed Telegram updates
    retention_audit_days: int = Field(default=730, ge=1)  # audit events of exports, erasures and purges
    # `make run` seeds a demo roster and demo accounts (never in production).
    demo: bool = False
    # The public address of the hub, used in the widget snippet and printed URLs.
    public_url: str | None = None
    # GET /metrics answers loopback; anyone else needs `Authorization: Bearer <this>` (unset: nobody).
    metrics_token: SecretStr | None = None
    # The workers' own metrics servers, on 127.0.0.1 (unset: off); deploy/README.md, "Metrics".
    mail_metrics_port: int | None = None
    telegram_metrics_port: int | None = None

    def mailbox_queues(self) -> dict[str, str]:
        """`LUOTSI_MAILBOXES` as {address: queue}; addresses compared in lower case."""
        out: dict[str, str] = {}
        for item in self.mailboxes.split(","):
            address, _, queue = item.strip().partition("=")
            if address and queue:
                out[address.strip().lower()] = queue.strip()
        return out

    def phone_number_of(self, queue: str, city: str) -> str | None:
        for item in self.phone_numbers.split(","):
            key, _, number = item.strip().partition("=")
            if key.strip() == f"{queue}.{city}" and number.strip():
                return number.strip()
        return None

    @property
    def telegram_files_url(self) -> str:
        if self.telegram_file_url:
            return self.telegram_file_url
        api = self.telegram_api_url
        return api[:-4] + "/file/bot" if api.endswith("/bot") else api.replace("/bot", "/file/bot", 1)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.http_host}:{self.http_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
