"""E-mail intake through the real SMTP server on loopback, with smtplib as the sending client."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation, MailMessage, Message, Ticket
from integrations.email.parse import parse_mail
from integrations.email.server import make_controller
from tests.conftest import MailCapture, free_port, running_capture

FIXTURES = Path(__file__).parent / "data" / "mail"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def mail_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'mail.db'}", smtp_port=free_port(),
                    smtp_max_bytes=200_000, db_busy_seconds=0.5)


@contextmanager
def intake_server(settings: Settings) -> Iterator[Settings]:
    """The real SMTP intake on loopback, on the settings' database."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url, busy_seconds=settings.db_busy_seconds)
    controller = make_controller(settings, make_sessionmaker(engine))
    controller.start()
    try:
        yield settings
    finally:
        controller.stop()
        engine.dispose()


@pytest.fixture
def smtp_server(mail_settings: Settings) -> Iterator[Settings]:
    with intake_server(mail_settings) as running:
        yield running


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


@pytest.fixture
def relay() -> Iterator[tuple[str, MailCapture]]:
    """A fresh capture per test (the session-wide one belongs to the stack)."""
    with running_capture() as running:
        yield running


@pytest.fixture
def smtp_with_relay(mail_settings: Settings, relay: tuple[str, MailCapture]) -> Iterator[tuple[Settings, MailCapture]]:
    mail_settings.smtp_relay = relay[0]
    with intake_server(mail_settings):
        yield mail_settings, relay[1]


def _wait_for(capture: MailCapture, count: int, seconds: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while len(capture.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # and nothing more arrives


def test_acknowledgement_in_the_senders_language_through_the_relay(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    from email import message_from_bytes, policy

    from bot.locales import render

    settings, capture = smtp_with_relay
    send(settings, fixture("outlook_change_negotiations.eml"), sender="hr@firma.fi")
    _wait_for(capture, 1)
    [(mail_from, rcpts, raw)] = capture.messages
    ack = message_from_bytes(raw, policy=policy.default)
    [ticket] = tickets(settings)
    assert rcpts == ["hr@firma.fi"] and mail_from == "employers@luotsi.localhost"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<CAOutlook-001@firma.fi>"
    assert f"[Luotsi #{ticket.id}]" in ack["Subject"]
    body = ack.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert ticket.id in body
    assert render("sys_mail_ack", "fi", ticket="X", when="Y").text.split("X")[0].strip() in body  # Finnish


def test_no_acknowledgement_to_robots_lists_bounces_or_the_null_sender(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    settings, capture = smtp_with_relay
    send(settings, fixture("auto_reply.eml"), sender="boss@firma.fi")
    send(settings, fixture("missing_from.eml"), sender="x@example.com")
    send(settings, fixture("koi8r.eml"), to="jobseekers@luotsi.localhost", sender="<>")
    _wait_for(capture, 1, seconds=1.5)
    assert capture.messages == []
    assert len(tickets(settings)) == 3  # still kept for the advisers


def test_acknowledgements_are_limited_per_sender(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    settings, capture = smtp_with_relay
    for n in range(6):
        raw = (f"From: flood@example.com\r\nSubject: question {n}\r\nMessage-ID: <flood-{n}@example.com>\r\n\r\n"
               f"Hello, question number {n} about work.\r\n").encode()
        send(settings, raw, sender="flood@example.com")
    _wait_for(capture, 3, seconds=15)  # acknowledgements go out after the 250s; slow under load
    assert len(capture.messages) == 3
    assert len(tickets(settings)) == 6


def test_subject_reference_joins_the_ticket(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    settings, _ = smtp_with_relay
    send(settings, fixture("attachment_traversal_name.eml"))
    [ticket] = tickets(settings)
    follow_up = (f"From: someone@example.com\r\nSubject: Re: Your message [Luotsi #{ticket.id}]\r\n"
                 f"Message-ID: <new-thread@example.com>\r\n\r\nStill waiting for an answer.\r\n").encode()
    send(settings, follow_up)
    assert len(tickets(settings)) == 1


def test_relay_down_still_keeps_the_mail(mail_settings: Settings) -> None:
    mail_settings.smtp_relay = f"127.0.0.1:{free_port()}"  # nothing listens there
    with intake_server(mail_settings):
        assert send(mail_settings, fixture("cp1251_base64.eml"), to="jobseekers@luotsi.localhost")[0] == 250
    assert len(tickets(mail_settings)) == 1


def test_adviser_reply_goes_out_in_the_thread_and_a_bounce_is_noted(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    from email import message_from_bytes, policy

    from fastapi.testclient import TestClient

    from bot.app import create_app
    from bot.models import TicketEvent
    from tests import factories as f

    settings, capture = smtp_with_relay
    send(settings, fixture("outlook_change_negotiations.eml"), sender="hr@firma.fi")
    _wait_for(capture, 1)  # the acknowledgement
    [ticket] = tickets(settings)
    with TestClient(create_app(settings)) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", "employer_advisory")
            f.adviser(db, "espoo.mail")
        auth = {"Authorization": "Bearer " + client.post(
            "/api/auth/token", data={"username": "espoo.mail", "password": f.PASSWORD}).json()["access_token"]}
        assert client.post("/api/tickets/claim", headers=auth).json()["id"] == ticket.id
        r = client.post(f"/api/tickets/{ticket.id}/reply", json={"text": "Hei Maija, soitan teille tänään."}, headers=auth)
        assert r.status_code == 200
    _wait_for(capture, 2)
    _, rcpts, raw = capture.messages[-1]
    reply = message_from_bytes(raw, policy=policy.default)
    assert rcpts == ["hr@firma.fi"]
    assert reply["In-Reply-To"] == "<CAOutlook-001@firma.fi>"
    assert reply["Subject"].startswith("Re: Muutosneuvottelut alkamassa") and f"[Luotsi #{ticket.id}]" in reply["Subject"]
    assert reply["Auto-Submitted"] is None  # a person wrote this one
    assert "soitan teille" in reply.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    bounce = (
        "From: MAILER-DAEMON@mx.firma.fi\r\nTo: employers@luotsi.localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.firma.fi>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nThe mail system: <hr@firma.fi>: user unknown\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; hr@firma.fi\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: employers@luotsi.localhost\r\nMessage-ID: {reply['Message-ID']}\r\n"
        "--r--\r\n"
    ).encode()
    assert send(settings, bounce, sender="<>")[0] == 250
    assert len(tickets(settings)) == 1  # no ticket for the bounce
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        status = db.scalars(select(Message.status).where(Message.sender == "adviser")).one()
        kinds = [e.kind for e in db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
    engine.dispose()
    assert status == "undelivered" and "bounced" in kinds


def test_huge_attachment_is_refused_and_a_normal_one_kept(smtp_server: Settings) -> None:
    import base64

    def with_attachment(size: int, mid: str) -> bytes:
        blob = base64.encodebytes(b"\x00" * size).replace(b"\n", b"\r\n")
        return (b"From: a@example.com\r\nTo: jobseekers@luotsi.localhost\r\nSubject: CV\r\n"
                b"Message-ID: <" + mid.encode() + b">\r\nMIME-Version: 1.0\r\n"
                b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nMy CV.\r\n'
                b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="cv.pdf"\r\n'
                b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"--b--\r\n")

    assert send(smtp_server, with_attachment(400_000, "huge@example.com"), to="jobseekers@luotsi.localhost")[0] == 552
    assert send(smtp_server, with_attachment(20_000, "small@example.com"), to="jobseekers@luotsi.localhost")[0] == 250
    assert len(tickets(smtp_server)) == 1
    kept = parse_mail(with_attachment(20_000, "small@example.com"))
    assert [(a.filename, a.size) for a in kept.attachments] == [("cv.pdf", 20_000)]


def test_a_mailed_cv_is_a_file_on_the_ticket_the_adviser_can_open(smtp_server: Settings) -> None:
    """Issue 15: e-mail attachments become the ticket's files like Telegram's (download only, checked
    names and types, behind the ticket's access rule)."""
    import base64

    from fastapi.testclient import TestClient

    from bot.app import create_app
    from tests import factories as f

    pdf = b"%PDF-1.4 a CV " * 100
    raw = (b"From: a@example.com\r\nTo: jobseekers@luotsi.localhost\r\nSubject: CV\r\n"
           b"Message-ID: <cv-file@example.com>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nMy CV.\r\n'
           b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="../../my cv.pdf"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(pdf).replace(b"\n", b"\r\n") + b"--b--\r\n")
    assert send(smtp_server, raw, to="jobseekers@luotsi.localhost")[0] == 250
    [ticket] = tickets(smtp_server)
    with TestClient(create_app(smtp_server)) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", ticket.queue)
            f.adviser(db, "espoo.cv")
        auth = {"Authorization": "Bearer " + client.post(
            "/api/auth/token", data={"username": "espoo.cv", "password": f.PASSWORD}).json()["access_token"]}
        files = [a for e in client.get(f"/api/tickets/{ticket.id}", headers=auth).json()["transcript"]
                 for a in e["attachments"]]
        assert [(a["filename"], a["size"]) for a in files] == [("my cv.pdf", len(pdf))]
        download = client.get(files[0]["url"], headers=auth)
        assert download.status_code == 200 and download.content == pdf
        assert download.headers["content-disposition"].startswith("attachment;")
        assert client.get(files[0]["url"]).status_code == 401


def test_mail_to_two_mailboxes_lands_in_both_queues(smtp_server: Settings) -> None:
    raw = (b"From: maija@example.fi\r\nTo: employers@luotsi.localhost, jobseekers@luotsi.localhost\r\n"
           b"Subject: Palkkatuki ja oma ty\xc3\xb6nhaku\r\nMessage-ID: <both@example.fi>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nHei, kysyn palkkatuesta ja omasta ty\xc3\xb6nhausta.\r\n")
    for _ in range(2):  # the second time is the sender's retry
        with smtplib.SMTP(smtp_server.smtp_host, smtp_server.smtp_port, timeout=30) as client:
            client.ehlo()
            client.mail("maija@example.fi")
            assert client.rcpt("employers@luotsi.localhost")[0] == 250
            assert client.rcpt("Jobseekers@luotsi.localhost")[0] == 250
            code, reply = client.data(raw)
            assert code == 250
    kept = tickets(smtp_server)
    assert sorted(t.queue for t in kept) == ["employer_advisory", "jobseeker_espoo"]
    assert all(t.id.encode() in reply for t in kept)
    assert {t.contact["mailbox"] for t in kept if t.contact} == {"employers@luotsi.localhost",
                                                                 "jobseekers@luotsi.localhost"}


def test_a_stranger_with_the_reference_cannot_write_into_a_ticket(smtp_server: Settings) -> None:
    send(smtp_server, fixture("attachment_traversal_name.eml"))
    [ticket] = tickets(smtp_server)
    forged = (f"From: mallory@evil.example\r\nSubject: Re: CV attached [Luotsi #{ticket.id}]\r\n"
              f"Message-ID: <forged@evil.example>\r\nIn-Reply-To: <attach@example.com>\r\n\r\n"
              f"Please send the CV to this address instead.\r\n").encode()
    assert send(smtp_server, forged, sender="mallory@evil.example")[0] == 250
    kept = tickets(smtp_server)
    assert len(kept) == 2 and len({t.conversation_id for t in kept}) == 2
    assert kept[1].contact and kept[1].contact["email"] == "mallory@evil.example"


def _mail(subject: bytes, body: bytes, message_id: bytes = b"<hostile-1@example.com>") -> bytes:
    return (b"From: Maija <maija@example.com>\r\nTo: jobseekers@luotsi.localhost\r\nSubject: " + subject
            + b"\r\nMessage-ID: " + message_id + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n")


def test_a_mail_of_numerals_only_is_accepted_not_451_for_ever(smtp_server: Settings) -> None:
    """Language identification crashed on '½ ¹ ²': every delivery got 451 until the sender bounced it."""
    code, _ = send(smtp_server, _mail(b"=?utf-8?q?=C2=BD?=", "½ ¹ ²".encode()), to="jobseekers@luotsi.localhost")
    assert code == 250
    assert len(tickets(smtp_server)) == 1


def test_control_characters_and_broken_subjects_are_cleaned_before_storing(smtp_server: Settings) -> None:
    """NUL cannot be stored in PostgreSQL (451 for ever) and CR/LF in a subject breaks the reply: the
    parse keeps only storable text."""
    raw = _mail(b"=?utf-8?q?Hei=0D=0ABcc:_x@evil.example?=", b"hei\x00 maailma \x1b[2J kiitos",
                message_id=b"<hostile-\x01-2@example.com>")
    parsed = parse_mail(raw)
    assert parsed.subject == "Hei Bcc: x@evil.example"
    assert parsed.text == "hei maailma [2J kiitos"
    assert parsed.message_id == "<hostile--2@example.com>"
    assert send(smtp_server, raw, to="jobseekers@luotsi.localhost")[0] == 250
    engine = make_engine(smtp_server.database_url)
    with make_sessionmaker(engine)() as db:
        [mail] = db.scalars(select(MailMessage)).all()
        texts = list(db.scalars(select(Message.text).where(Message.sender == "customer")))
    engine.dispose()
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert texts and not any("\x00" in t or "\x1b" in t for t in texts)


def test_outgoing_headers_are_one_clean_line() -> None:
    from integrations.email.outgoing import new_message

    mail = new_message(sender="jobseekers@luotsi.localhost", to="maija@example.com",
                       subject="Re: Hei\r\nBcc: evil@example.com\x00 [Luotsi #0123456789ab]", body="Hei\udc00",
                       in_reply_to="<a\r\n@example.com>", references=("<b@example.com>\n",))
    raw = bytes(mail)
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert "\nBcc:" not in head
    assert mail["Subject"] == "Re: Hei Bcc: evil@example.com [Luotsi #0123456789ab]"
    assert mail["In-Reply-To"] == "<a @example.com>" and mail["References"] == "<b@example.com> <a @example.com>"


def test_adviser_reply_to_a_subject_with_a_line_break_goes_out(smtp_with_relay: tuple[Settings, MailCapture]) -> None:
    """A subject stored with CR/LF (by an older version) made the reply raise after it was saved as "sent":
    now the reply goes out with the subject on one line."""
    from email import message_from_bytes, policy

    from fastapi.testclient import TestClient

    from bot.app import create_app
    from tests import factories as f

    settings, capture = smtp_with_relay
    send(settings, fixture("outlook_change_negotiations.eml"), sender="hr@firma.fi")
    _wait_for(capture, 1)
    [ticket] = tickets(settings)
    with TestClient(create_app(settings)) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", "employer_advisory")
            f.adviser(db, "espoo.mail")
            stored = db.scalars(select(MailMessage)).one()
            stored.subject = "Muutosneuvottelut\r\nBcc: evil@example.com"
            db.commit()
        auth = {"Authorization": "Bearer " + client.post(
            "/api/auth/token", data={"username": "espoo.mail", "password": f.PASSWORD}).json()["access_token"]}
        assert client.post("/api/tickets/claim", headers=auth).json()["id"] == ticket.id
        r = client.post(f"/api/tickets/{ticket.id}/reply", json={"text": "Hei, soitan tänään."}, headers=auth)
        assert r.status_code == 200
    _wait_for(capture, 2)
    _, rcpts, raw = capture.messages[-1]
    assert rcpts == ["hr@firma.fi"]
    reply = message_from_bytes(raw, policy=policy.default)
    assert reply["Subject"].startswith("Re: Muutosneuvottelut Bcc: evil@example.com") and reply["Bcc"] is None
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        status = db.scalars(select(Message.status).where(Message.sender == "adviser")).one()
    engine.dispose()
    assert status == "sent"
