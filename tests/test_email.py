"""E-mail intake through the real SMTP server on loopback, with smtplib as the sending client."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation, MailMessage, Message, Ticket
from integrations.email.parse import parse_mail
from integrations.email.server import make_controller
from tests.conftest import free_port

FIXTURES = Path(__file__).parent / "data" / "mail"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def mail_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'mail.db'}", smtp_port=free_port(),
                    smtp_max_bytes=200_000, db_busy_seconds=0.5)


@pytest.fixture
def smtp_server(mail_settings: Settings) -> Iterator[Settings]:
    migrate(mail_settings.database_url)
    engine = make_engine(mail_settings.database_url, busy_seconds=mail_settings.db_busy_seconds)
    controller = make_controller(mail_settings, make_sessionmaker(engine))
    controller.start()
    try:
        yield mail_settings
    finally:
        controller.stop()
        engine.dispose()


def send(settings: Settings, raw: bytes, to: str = "employers@luotsi.localhost", sender: str = "x@example.com") -> tuple[int, bytes]:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.ehlo()
        client.mail(sender)
        code, _ = client.rcpt(to)
        assert code == 250, code
        return client.data(raw)


def tickets(settings: Settings) -> list[Ticket]:
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        rows = list(db.scalars(select(Ticket).order_by(Ticket.created_at)))
    engine.dispose()
    return rows


def test_mail_for_a_mailbox_becomes_a_ticket_in_its_queue(smtp_server: Settings) -> None:
    code, reply = send(smtp_server, fixture("outlook_change_negotiations.eml"))
    assert code == 250 and b"ticket" in reply
    [ticket] = tickets(smtp_server)
    assert ticket.queue == "employer_advisory" and ticket.channel == "email"
    assert ticket.priority == 10  # change negotiations go first
    assert ticket.language == "fi"
    assert ticket.contact and ticket.contact["email"] == "hr@firma.fi"
    engine = make_engine(smtp_server.database_url)
    with make_sessionmaker(engine)() as db:
        text = db.scalars(select(Message.text).where(Message.sender == "customer")).one()
        raw = db.scalars(select(MailMessage.raw)).one()
    engine.dispose()
    assert "muutosneuvottelut" in text and "Muutosneuvottelut alkamassa" in text
    assert "040 123 4567" not in text  # the signature is cut from the new text (kept in the raw mail)
    assert raw == fixture("outlook_change_negotiations.eml")


def test_other_recipients_are_refused_no_relaying(smtp_server: Settings) -> None:
    with smtplib.SMTP(smtp_server.smtp_host, smtp_server.smtp_port, timeout=30) as client:
        client.ehlo()
        client.mail("spammer@example.com")
        code, _ = client.rcpt("victim@gmail.com")
        assert code == 550
        code, _ = client.rcpt("someone@luotsi.localhost")
        assert code == 550
    assert tickets(smtp_server) == []


def test_oversize_mail_gets_552(smtp_server: Settings) -> None:
    huge = b"From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n\r\n" + (b"x" * 76 + b"\r\n") * 4000
    code, _ = send(smtp_server, huge)
    assert code == 552
    assert tickets(smtp_server) == []


def test_retry_with_the_same_message_id_makes_no_second_ticket(smtp_server: Settings) -> None:
    assert send(smtp_server, fixture("koi8r.eml"), to="jobseekers@luotsi.localhost")[0] == 250
    assert send(smtp_server, fixture("koi8r.eml"), to="jobseekers@luotsi.localhost")[0] == 250
    [ticket] = tickets(smtp_server)
    assert ticket.queue == "jobseeker_espoo" and ticket.language == "ru"


def test_database_unavailable_gives_451_and_the_retry_one_ticket(smtp_server: Settings) -> None:
    path = smtp_server.database_url.split("///", 1)[1]
    blocker = sqlite3.connect(path, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        code, _ = send(smtp_server, fixture("cp1251_base64.eml"), to="jobseekers@luotsi.localhost")
        assert code == 451
    finally:
        blocker.rollback()
        blocker.close()
    code, _ = send(smtp_server, fixture("cp1251_base64.eml"), to="jobseekers@luotsi.localhost")
    assert code == 250
    assert len(tickets(smtp_server)) == 1


def test_a_reply_joins_its_thread(smtp_server: Settings) -> None:
    send(smtp_server, fixture("attachment_traversal_name.eml"))
    reply = (b"From: someone@example.com\r\nTo: employers@luotsi.localhost\r\nSubject: Re: CV attached\r\n"
             b"Message-ID: <reply-1@example.com>\r\nIn-Reply-To: <attach@example.com>\r\n\r\n"
             b"One more thing: I can start in January.\r\n")
    send(smtp_server, reply)
    [ticket] = tickets(smtp_server)
    engine = make_engine(smtp_server.database_url)
    with make_sessionmaker(engine)() as db:
        texts = list(db.scalars(select(Message.text).where(Message.conversation_id == ticket.conversation_id)))
        conversations = db.scalars(select(Conversation)).all()
    engine.dispose()
    assert len(conversations) == 1 and len(texts) == 2


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_is_accepted(smtp_server: Settings, name: str) -> None:
    to = "jobseekers@luotsi.localhost"
    assert send(smtp_server, fixture(name), to=to)[0] == 250
    assert len(tickets(smtp_server)) == 1


def test_parse_real_world_encodings() -> None:
    koi8 = parse_mail(fixture("koi8r.eml"))
    assert koi8.subject == "Вопрос" and "безработным" in koi8.text
    cp1251 = parse_mail(fixture("cp1251_base64.eml"))
    assert cp1251.sender_name == "Ольга" and "помощь с поиском работы" in cp1251.text
    html_only = parse_mail(fixture("html_only_with_identity_code.eml"))
    assert "työttömyysturvan" in html_only.text and "alert" not in html_only.text and "color" not in html_only.text
    broken = parse_mail(fixture("malformed_wrong_charset.eml"))
    assert "tarvitsen neuvoja" in broken.text and "Vielä yksi rivi" in broken.text
    attach = parse_mail(fixture("attachment_traversal_name.eml"))
    assert [a.filename for a in attach.attachments] == ["passwd.pdf"]
    assert attach.attachments[0].content_type == "application/pdf" and attach.attachments[0].size > 0
    nofrom = parse_mail(fixture("missing_from.eml"))
    assert nofrom.sender == "" and nofrom.auto_submitted  # no address to answer: never auto-answer
    ooo = parse_mail(fixture("auto_reply.eml"))
    assert ooo.auto_submitted
    assert not parse_mail(fixture("outlook_change_negotiations.eml")).auto_submitted


def test_no_message_id_still_deduplicates() -> None:
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    assert parse_mail(raw).message_id == parse_mail(raw).message_id
    assert parse_mail(raw).message_id != parse_mail(raw + b"x").message_id
