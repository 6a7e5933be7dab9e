"""The Telegram worker: python-telegram-bot against the Bot API, started by `luotsi run`.

    python -m integrations.telegram.worker      # when LUOTSI_TELEGRAM_TOKEN is set

Three loops share one PTB application (its bot carries PTB's AIORateLimiter):
- intake: long polling (getUpdates) stores each update before asking for the next offset — the
  offset is Telegram's acknowledgement. In webhook mode the hub's /telegram/webhook stores them.
- processing: stored updates are claimed in order and fed to the application's handlers; one
  chat's updates run one after another, different chats side by side.
- outbox: every message for a Telegram customer — the assistant's answers, an adviser's reply
  from the console, "the ticket is closed" — is stored as "pending" first and sent from here,
  so a slow or failing Bot API never loses one and a blocked bot marks it undelivered.
A fourth, slow loop tells waiting customers their place in the queue when it has changed a lot
(bot/services/queue_position.py: next in line, the place halved, the advisory opened, the estimate
two bands away; at most once per QUEUE_MESSAGE_INTERVAL per ticket). It only stores "pending"
messages for the outbox, and one worker at a time runs it (`hold_job`).
Only private chats are served; in a group the bot says so once and stays quiet.

Several workers may run for one bot on one PostgreSQL database. Each claims a whole chat before it
processes that chat's updates or sends its messages (an advisory lock on a connection of its own,
bot/services/jobs.py), so no update is processed twice, no message sent twice and no chat's order
changed; a worker that dies lets go of its chats with its connection and another carries on. One of
them long-polls (Telegram allows one getUpdates at a time), the others wait to take over.
The one gap no claim closes: a worker killed while the Bot API is sending a message, before the
"sent" is committed, leaves it pending and it is sent again (Telegram has no idempotency key).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings, get_settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render, ui_strings
from bot.messages import Button, InboundMessage, OutboundMessage
from bot.models import Conversation, TelegramChat, TelegramUpdate
from bot.models import Message as StoredMessage
from bot.services import events, metrics, queue_position
from bot.services.attachments import NewAttachment
from bot.services.conversations import do_answer_locally, do_receive_message
from bot.services.delivery import do_mark_undelivered
from bot.services.guidance import GuidanceContext
from bot.services.jobs import Claims, hold_job
from bot.services.rasa import RasaClient
from bot.services.translation import Translator
from integrations.telegram import delivery, intake
from integrations.telegram import render as wire
from integrations.telegram.delivery import Outgoing
from nlu import langid

log = logging.getLogger("integrations.telegram")
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
COMMANDS = ("start", "language", "human", "help")
CHATS_AT_ONCE = 16  # chats a worker processes, and chats it sends to, side by side
POLLER = "poll"  # the claim of the one worker that long-polls
QUEUE_PASS_SECONDS = 30.0  # how often waiting customers' places are looked at
QUEUE_MESSAGE_INTERVAL: timedelta = queue_position.TELEGRAM_MIN_INTERVAL  # at most one place message per ticket in this
QUEUE_JOB = "telegram.queue_updates"


def update_key(chat_id: int | None, update_id: int) -> str:
    """The claim an update is processed under: its chat's, so one chat's updates go in order."""
    return f"in:{chat_id}" if chat_id is not None else f"in-update:{update_id}"


def outbox_key(chat_id: int) -> str:
    return f"out:{chat_id}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    if not settings.telegram_token:
        raise SystemExit("LUOTSI_TELEGRAM_TOKEN is not set")
    return (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_files_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_rate_limit, max_retries=3))
        .updater(None)
        .build()
    )


class TelegramWorker:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], rasa: RasaClient,
                 application: Application | None = None) -> None:  # type: ignore[type-arg]
        self.settings = settings
        self.factory = factory
        self.claims = Claims(factory.kw["bind"], "telegram")
        self.rasa = rasa
        self.app = application or build_application(settings)
        self.translator = Translator.from_setting(settings.translator, timeout=settings.translator_timeout,
                                                  api_key=settings.translator_api_key, mask=settings.translator_mask)
        self.context = GuidanceContext.from_settings(settings)
        self._failed: set[int] = set()
        self._stop = asyncio.Event()
        self._updates_waiting = asyncio.Event()
        self._outbox_waiting = asyncio.Event()
        self._chat_slots = asyncio.Semaphore(CHATS_AT_ONCE)
        self._install_handlers()

    # --- wiring -----------------------------------------------------------------------------

    def _install_handlers(self) -> None:
        app = self.app
        app.add_handler(TypeHandler(Update, self.on_any_update), group=-1)
        app.add_handler(ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(CommandHandler("start", self.on_start))
        app.add_handler(CommandHandler("language", self.on_language))
        app.add_handler(CommandHandler("help", self.on_help))
        app.add_handler(CommandHandler("human", self.on_human))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, self.on_file))
        app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, self.on_voice))
        app.add_handler(MessageHandler(filters.ALL, self.on_other))
        app.add_error_handler(self.on_error)

    async def start(self) -> None:
        """getMe, the command menu, the webhook. A wrong token stops the worker with a clear message
        (InvalidToken); an unreachable Bot API is waited for, so Telegram being down when Luotsi
        starts does not stop the other channels."""
        backoff = 1.0
        while True:
            try:
                await self.app.initialize()
                break
            except (NetworkError, TimedOut) as exc:  # InvalidToken is neither: it stops the worker
                log.warning("telegram.unreachable error=%s retry_in=%.0fs", type(exc).__name__, backoff)
                await self._pause(self._stop, backoff)
                if self._stop.is_set():
                    return
                backoff = min(backoff * 2, 60.0)
        await self._register_commands()
        bot = self.app.bot
        if self.settings.telegram_mode == "webhook":
            url = self.settings.telegram_webhook_url or f"{self.settings.base_url}/telegram/webhook"
            if not self.settings.telegram_webhook_secret:
                raise SystemExit("webhook mode needs LUOTSI_TELEGRAM_WEBHOOK_SECRET")
            await bot.set_webhook(url=url, secret_token=self.settings.telegram_webhook_secret,
                                  allowed_updates=ALLOWED_UPDATES)
        else:
            await bot.delete_webhook()
        log.info("telegram.started mode=%s bot_id=%s", self.settings.telegram_mode, bot.id)

    async def run(self) -> None:
        await self.start()
        if self._stop.is_set():
            return
        loops = [self._process_loop(), self._outbox_loop(), self._queue_loop()]
        if self.settings.telegram_mode != "webhook":
            loops.append(self._poll_loop())
        try:
            await asyncio.gather(*loops)
        finally:
            await self.app.shutdown()
            await asyncio.to_thread(self.claims.close)
            log.info("telegram.stopped")

    def stop(self) -> None:
        self._stop.set()
        self._updates_waiting.set()
        self._outbox_waiting.set()

    async def _register_commands(self) -> None:
        """The command menu, in each tier-1 language (English for everyone else)."""
        for language in (None, *langid.TIER1):
            commands = [BotCommand(c, render(f"sys_telegram_cmd_{c}", language or "en").text[:256])
                        for c in COMMANDS]
            try:
                await self.app.bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                log.warning("telegram.commands_failed language=%s error=%s", language, type(exc).__name__)

    async def _pause(self, event: asyncio.Event, seconds: float) -> None:
        """Wait until `event` is set (then clear it) or `seconds` pass."""
        try:
            await asyncio.wait_for(event.wait(), timeout=seconds)
        except TimeoutError:
            pass
        if event is not self._stop:
            event.clear()

    # --- intake: long polling ---------------------------------------------------------------

    async def _poll_loop(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while not self._stop.is_set():
            if not await asyncio.to_thread(self._lead_polling):
                await self._pause(self._stop, 5.0)  # another worker polls; take over when it goes
                offset = None
                continue
            try:
                updates = await self.app.bot.get_updates(offset=offset, timeout=self.settings.telegram_poll_timeout,
                                                         allowed_updates=ALLOWED_UPDATES)
            except (NetworkError, TimedOut, Conflict) as exc:  # Conflict: a getUpdates from elsewhere
                log.warning("telegram.poll_failed error=%s", type(exc).__name__)
                await self._pause(self._stop, backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not updates:
                continue
            payloads = [u.to_dict() for u in updates]
            try:
                new = await asyncio.to_thread(self._store, payloads)
            except Exception as exc:  # not stored: do not move the offset, Telegram keeps them
                log.warning("telegram.store_failed error=%s", type(exc).__name__)
                await self._pause(self._stop, 2.0)
                continue
            offset = max(u.update_id for u in updates) + 1
            log.info("telegram.received updates=%d new=%d", len(updates), new)
            self._updates_waiting.set()

    def _store(self, payloads: list[dict[str, Any]]) -> int:
        with self.factory() as db:
            return intake.do_store_updates(db, payloads, _now())

    def _lead_polling(self) -> bool:
        """True while this worker is the one that long-polls (it keeps the claim until it stops)."""
        return self.claims.holds(POLLER) or bool(self.claims.take([POLLER]))

    # --- processing -------------------------------------------------------------------------

    async def _process_loop(self) -> None:
        while not self._stop.is_set():
            claimed = await asyncio.to_thread(self._claim)
            if not claimed:
                await self._pause(self._updates_waiting, 0.2)
                continue
            by_chat: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
            for update_id, chat_id, payload in claimed:
                by_chat[update_key(chat_id, update_id)].append((update_id, payload))
            await asyncio.gather(*(self._process_chat(key, items) for key, items in by_chat.items()))

    def _claim(self) -> list[tuple[int, int | None, dict[str, Any]]]:
        """Claim the chats of the oldest waiting updates that no other worker holds, then move all
        their waiting updates to "processing". An update found "processing" under a chat nobody
        holds was left by a worker that died (or by this one before a restart): it is taken again —
        at-least-once from there, as before."""
        with self.factory() as db:
            rows = db.execute(select(TelegramUpdate.update_id, TelegramUpdate.chat_id)
                              .where(TelegramUpdate.status.in_(("received", "processing")))
                              .order_by(TelegramUpdate.update_id).limit(200)).all()
        keys = self.claims.take([update_key(chat, uid) for uid, chat in rows], limit=CHATS_AT_ONCE)
        if not keys:
            return []
        try:
            with self.factory() as db:
                claimed = _claim_updates(db, keys)
        except BaseException:
            self.claims.release(keys)
            raise
        self.claims.release(set(keys) - {update_key(chat, uid) for uid, chat, _ in claimed})
        return claimed

    async def _process_chat(self, key: str, items: list[tuple[int, dict[str, Any]]]) -> None:
        try:
            async with self._chat_slots:
                for update_id, payload in items:
                    await self.process_one(update_id, payload)
        finally:
            await asyncio.to_thread(self.claims.release, [key])

    async def process_one(self, update_id: int, payload: dict[str, Any]) -> None:
        self._failed.discard(update_id)
        try:
            update = Update.de_json(payload, self.app.bot)
            await self.app.process_update(update)
        except Exception as exc:  # a payload PTB cannot read: set aside after the retries
            log.warning("telegram.unreadable update=%s error=%s", update_id, type(exc).__name__)
            self._failed.add(update_id)
        ok = update_id not in self._failed
        status = await asyncio.to_thread(self._finish, update_id, ok)
        if not ok:
            log.warning("telegram.update_failed update=%s now=%s", update_id, status)
        self._outbox_waiting.set()

    def _finish(self, update_id: int, ok: bool) -> str:
        with self.factory() as db:
            return intake.do_finish_update(db, update_id, ok=ok, now=_now())

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: counts the update as failed; logs the kind of error, never text."""
        if isinstance(update, Update):
            self._failed.add(update.update_id)
        log.warning("telegram.handler_error update=%s error=%s",
                    update.update_id if isinstance(update, Update) else None, type(context.error).__name__)

    # --- the turns --------------------------------------------------------------------------

    def _inbound(self, update: Update, text: str, chosen: str | None = None) -> InboundMessage:
        chat = update.effective_chat
        user = update.effective_user
        assert chat is not None
        return InboundMessage(channel=CHANNEL, external_id=str(chat.id), text=text[: self.settings.max_text_chars],
                              locale=user.language_code if user else None, chosen_language=chosen)

    async def _assistant_turn(self, inbound: InboundMessage) -> None:
        await do_receive_message(self.factory, self.rasa, inbound, now=_now(), context=self.context,
                                 reply_status="pending", translator=self.translator)

    async def _local_turn(self, inbound: InboundMessage, key: str, *, buttons: Sequence[Button] = (),
                          attachment: NewAttachment | None = None) -> None:
        """A turn Telegram answers itself with catalogue text `key`, in the conversation's language."""
        def turn() -> None:
            with self.factory() as db:
                language = self._language_of(db, inbound)
                reply = render(key, language)
                reply = OutboundMessage(text=reply.text, buttons=reply.buttons + tuple(buttons))
                do_answer_locally(db, inbound, [reply], now=_now(), reply_status="pending", attachment=attachment)
        await asyncio.to_thread(turn)

    @staticmethod
    def _language_of(db: Session, inbound: InboundMessage) -> str:
        if inbound.chosen_language:
            return inbound.chosen_language
        known = db.scalars(select(Conversation.language).where(
            Conversation.channel == CHANNEL, Conversation.external_id == inbound.external_id)).first()
        if known and known in langid.TIER1:
            return known
        hint = langid.normalise_hint(inbound.locale)
        return hint if hint in langid.TIER1 else "en"

    @staticmethod
    def _language_buttons() -> tuple[Button, ...]:
        return tuple(Button(title=name, payload=wire.LANGUAGE_PREFIX + code) for code, name in wire.LANGUAGE_CHOICES)

    async def on_any_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Gate: private chats go on to the handlers; a group gets one notice, then silence."""
        chat = update.effective_chat
        if chat is None:
            raise ApplicationHandlerStop
        if chat.type == ChatType.PRIVATE:
            return
        member = update.my_chat_member
        removed = member is not None and member.new_chat_member.status in (ChatMemberStatus.LEFT,
                                                                            ChatMemberStatus.BANNED)
        if not removed and await asyncio.to_thread(self._first_group_notice, chat.id, chat.type):
            user = update.effective_user
            hint = langid.normalise_hint(user.language_code if user else None)
            notice = render("sys_telegram_private_only", hint if hint in langid.TIER1 else "en")
            try:
                await context.bot.send_message(chat.id, wire.render(notice.text)[0].text, parse_mode=wire.PARSE_MODE)
            except TelegramError as exc:
                log.warning("telegram.group_notice_failed error=%s", type(exc).__name__)
        log.info("telegram.group_ignored update=%s", update.update_id)
        raise ApplicationHandlerStop

    def _first_group_notice(self, chat_id: int, chat_type: str) -> bool:
        """True the first time only: the notice is recorded before it is sent."""
        with self.factory() as db:
            row = db.get(TelegramChat, chat_id)
            if row is None:
                row = TelegramChat(chat_id=chat_id, chat_type=chat_type)
                db.add(row)
            if row.group_notice_at is not None:
                return False
            row.group_notice_at = _now()
            db.commit()
            return True

    async def on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private chat that blocks (or unblocks) the bot."""
        member = update.my_chat_member
        assert member is not None
        blocked = member.new_chat_member.status == ChatMemberStatus.BANNED
        await asyncio.to_thread(self._set_blocked, member.chat.id, blocked)
        log.info("telegram.chat_%s chat_update=%s", "blocked" if blocked else "unblocked", update.update_id)

    def _set_blocked(self, chat_id: int, blocked: bool) -> None:
        with self.factory() as db:
            row = db.get(TelegramChat, chat_id) or TelegramChat(chat_id=chat_id, chat_type=ChatType.PRIVATE)
            row.blocked_at = _now() if blocked else None
            db.add(row)
            db.commit()

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        hint = langid.normalise_hint(user.language_code if user else None)
        chosen = hint if hint in langid.TIER1 else None
        await self._local_turn(self._inbound(update, "/start", chosen), "sys_telegram_start",
                               buttons=self._language_buttons())

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._local_turn(self._inbound(update, "/language"), "sys_telegram_choose_language",
                               buttons=self._language_buttons())

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._local_turn(self._inbound(update, "/help"), "sys_telegram_help")

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._assistant_turn(self._inbound(update, "/request_human"))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
            if isinstance(query.message, Message):  # the keyboard goes, so it is not pressed twice
                await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest:  # too old to answer or already edited: the press itself still counts
            pass
        data = query.data or ""
        language = wire.language_of_callback(data)
        if language:
            # The payload form `/intent{"entity": …}` fills Rasa's language slot as well.
            await self._assistant_turn(self._inbound(update, f'/greet{{"language": "{language}"}}', language))
        elif data:
            await self._assistant_turn(self._inbound(update, wire.text_of_callback(data)))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await self._assistant_turn(self._inbound(update, message.text))

    async def on_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.photo:
            item: Any = message.photo[-1]  # the largest size
            name, mime = f"photo-{message.message_id}.jpg", "image/jpeg"
        else:
            item = message.document
            name, mime = item.file_name or f"document-{message.message_id}", item.mime_type or ""
        text = message.caption or f"📎 {name}"
        inbound = self._inbound(update, text)
        if item.file_size and item.file_size > self.settings.telegram_max_file_bytes:
            await self._local_turn(inbound, "sys_telegram_file_failed")
            return
        try:
            file = await context.bot.get_file(item.file_id)
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("telegram.file_failed update=%s error=%s", update.update_id, type(exc).__name__)
            await self._local_turn(inbound, "sys_telegram_file_failed")
            return
        await self._local_turn(inbound, "sys_telegram_file_kept",
                               attachment=NewAttachment(filename=name, content_type=mime, data=data))
        log.info("telegram.file_kept update=%s bytes=%d", update.update_id, len(data))

    async def on_voice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._local_turn(self._inbound(update, "🎤 (voice message)"), "sys_telegram_voice")

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, locations, contacts, polls…: named, never stored as content."""
        message = update.effective_message
        if message is None:
            return
        kind = next((k for k in ("sticker", "location", "contact", "video", "animation", "poll", "venue")
                     if getattr(message, k, None)), "message")
        await self._local_turn(self._inbound(update, f"({kind})"), "sys_telegram_unsupported")

    # --- the place in the queue ----------------------------------------------------------------

    async def _queue_loop(self) -> None:
        while not self._stop.is_set():
            await self._pause(self._stop, QUEUE_PASS_SECONDS)
            if self._stop.is_set():
                return
            try:
                queued = await asyncio.to_thread(self._queue_pass)
            except Exception as exc:  # the database away: the next pass tries again
                log.warning("telegram.queue_updates_failed error=%s", type(exc).__name__)
                continue
            if queued:
                self._outbox_waiting.set()

    def _queue_pass(self) -> int:
        """Queue the place messages that are due, in the one worker that holds the job now."""
        with hold_job(self.factory.kw["bind"], QUEUE_JOB) as mine:
            if not mine:
                return 0
            with self.factory() as db:
                return queue_position.do_queue_updates(db, _now(), self.context.hours,
                                                       min_interval=QUEUE_MESSAGE_INTERVAL)

    # --- outbox -----------------------------------------------------------------------------

    async def _outbox_loop(self) -> None:
        while not self._stop.is_set():
            batch = await asyncio.to_thread(self._pending)
            if not batch:
                await self._pause(self._outbox_waiting, 0.5)
                continue
            by_chat: dict[int, list[Outgoing]] = defaultdict(list)
            for item in batch:
                by_chat[item.chat_id].append(item)
            results = await asyncio.gather(*(self._send_chat(items) for items in by_chat.values()))
            if not any(results):  # nothing went out (the Bot API is down): wait before trying again
                await self._pause(self._stop, 2.0)

    def _pending(self) -> list[Outgoing]:
        """Claim the chats waiting longest that no other worker holds, then read their pending
        messages — after the claim, so whatever another worker sent before letting go reads "sent"."""
        with self.factory() as db:
            chats = delivery.pending_chats(db, limit=4 * CHATS_AT_ONCE)
        keys = self.claims.take([outbox_key(c) for c in chats], limit=CHATS_AT_ONCE)
        if not keys:
            return []
        try:
            with self.factory() as db:
                items = delivery.read_pending(db, [int(k.partition(":")[2]) for k in keys])
        except BaseException:
            self.claims.release(keys)
            raise
        self.claims.release(set(keys) - {outbox_key(i.chat_id) for i in items})
        return items

    async def _send_chat(self, items: list[Outgoing]) -> bool:
        """Send one chat's pending messages in order; stop at the first that cannot go yet. The
        chat's claim is let go when this returns (or is cancelled)."""
        try:
            return await self._send_in_order(items)
        finally:
            await asyncio.to_thread(self.claims.release, [outbox_key(items[0].chat_id)])

    async def _send_in_order(self, items: list[Outgoing]) -> bool:
        sent_any = False
        for item in items:
            label = ui_strings(item.language).get("adviser") if item.sender == "adviser" else None
            try:
                last: Message | None = None
                for part in wire.render(item.text, item.buttons, label=label):
                    markup = InlineKeyboardMarkup(
                        [[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                         for row in part.keyboard]) if part.keyboard else None
                    last = await self.app.bot.send_message(item.chat_id, part.text, parse_mode=wire.PARSE_MODE,
                                                           reply_markup=markup)
                external = f"{item.chat_id}:{last.message_id}" if last else None
                await asyncio.to_thread(self._mark, item.id, "sent", external, None)
                metrics.count_telegram()
                sent_any = True
            except Forbidden:  # the customer blocked the bot (or deleted their account)
                metrics.count_telegram("blocked")
                await asyncio.to_thread(self._mark_chat_blocked, item.chat_id, [i.id for i in items if i.id >= item.id])
                return sent_any
            except BadRequest as exc:  # Telegram refuses this message for good (chat not found, …)
                await asyncio.to_thread(self._mark, item.id, "undelivered", None, "rejected")
                log.warning("telegram.rejected message=%s error=%s", item.id, type(exc).__name__)
                metrics.count_telegram("rejected")
            except (RetryAfter, TimedOut, NetworkError) as exc:  # try again later, in order
                log.warning("telegram.send_deferred message=%s error=%s", item.id, type(exc).__name__)
                metrics.count_telegram("deferred")
                return sent_any
        return sent_any

    def _mark(self, message_id: int, status: str, external_id: str | None, reason: str | None) -> None:
        with self.factory() as db:
            message = db.get(StoredMessage, message_id)
            if message is None:
                return
            if status == "undelivered":
                do_mark_undelivered(db, message, reason or "undelivered", _now())
            else:
                message.status, message.external_id = status, external_id
            db.commit()

    def _mark_chat_blocked(self, chat_id: int, message_ids: list[int]) -> None:
        with self.factory() as db:
            row = db.get(TelegramChat, chat_id) or TelegramChat(chat_id=chat_id, chat_type=ChatType.PRIVATE)
            row.blocked_at = _now()
            db.add(row)
            for message_id in message_ids:
                message = db.get(StoredMessage, message_id)
                if message is not None:
                    do_mark_undelivered(db, message, "blocked", _now())
            db.commit()
        log.info("telegram.blocked messages=%d", len(message_ids))


def _claim_updates(db: Session, keys: list[str]) -> list[tuple[int, int | None, dict[str, Any]]]:
    """Every waiting (or orphaned "processing") update under the claimed `keys`, now "processing",
    oldest first. An orphan already tried MAX_ATTEMPTS times is set aside as "failed": it may be
    what kills the worker. Commits."""
    chats = [int(k.partition(":")[2]) for k in keys if k.startswith("in:")]
    lone = [int(k.partition(":")[2]) for k in keys if k.startswith("in-update:")]
    under_keys = or_(TelegramUpdate.chat_id.in_(chats),
                     and_(TelegramUpdate.chat_id.is_(None), TelegramUpdate.update_id.in_(lone)))
    db.execute(update(TelegramUpdate).where(TelegramUpdate.status == "processing", under_keys,
                                            TelegramUpdate.attempts >= intake.MAX_ATTEMPTS)
               .values(status="failed"))
    waiting = and_(TelegramUpdate.status.in_(("received", "processing")), under_keys)
    db.execute(update(TelegramUpdate).where(waiting)
               .values(status="processing", attempts=TelegramUpdate.attempts + 1))
    rows = db.execute(select(TelegramUpdate.update_id, TelegramUpdate.chat_id, TelegramUpdate.payload)
                      .where(TelegramUpdate.status == "processing", under_keys)
                      .order_by(TelegramUpdate.update_id)).all()
    db.commit()
    return [(uid, chat, payload or {}) for uid, chat, payload in rows]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL contains the bot's token.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url, busy_seconds=settings.db_busy_seconds)
    rasa = RasaClient(settings.rasa_url, timeout=max(settings.rasa_timeout, 5.0), token=settings.rasa_token)
    factory = make_sessionmaker(engine)
    publisher = events.install_publisher(factory, settings)  # what it commits wakes the hubs' streams
    worker = TelegramWorker(settings, factory, rasa)
    metrics.serve_worker_metrics(settings.telegram_metrics_port, "telegram")

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        try:
            await worker.run()
        finally:
            await rasa.aclose()

    asyncio.run(serve())
    publisher.close()
    engine.dispose()


if __name__ == "__main__":
    main()
