"""Inbound e-mail in the core (bot/services/mail.py): plain values in, conversation, message,
ticket and raw mail out in one transaction. The SMTP path through the real server is in
tests/test_email.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation, MailMessage, Message, Ticket
from bot.services import mail, shifts

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)  # a Wednesday, 11:00 in Helsinki
HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def receive(db: Session, incoming: mail.IncomingMail, queue: str = "jobseeker_espoo",
            now: datetime = NOW) -> mail.ReceivedMail:
    return mail.do_receive_mail(db, incoming, mailbox="jobseekers@luotsi.localhost", queue=queue, now=now,
                                hours=HOURS, home_area="espoo", reopen_days=7)


def incoming(message_id: str = "<a1@example.fi>", **values: object) -> mail.IncomingMail:
    defaults: dict[str, object] = {"raw": b"From: maija@example.fi\r\n\r\nHei", "sender": "maija@example.fi",
                                   "sender_name": "Maija", "subject": "Työnhaku",
                                   "text": "Hei, miten ilmoittaudun työnhakijaksi? Olen muuttanut Espooseen."}
    defaults.update(values)
    return mail.IncomingMail(message_id=message_id, **defaults)  # type: ignore[arg-type]


def test_a_mail_becomes_conversation_message_ticket_and_raw_row(db: Session) -> None:
    received = receive(db, incoming())
    assert not received.duplicate and received.language == "fi"
    ticket = db.get(Ticket, received.ticket_id)
    assert ticket is not None and ticket.channel == "email" and ticket.queue == "jobseeker_espoo"
    assert ticket.contact == {"channel": "email", "email": "maija@example.fi", "name": "Maija",
                              "mailbox": "jobseekers@luotsi.localhost"}
    conversation = db.get(Conversation, ticket.conversation_id)
    assert conversation is not None and conversation.handler == "human" and conversation.language == "fi"
    message = db.scalars(select(Message).where(Message.conversation_id == conversation.id)).one()
    assert message.sender == "customer" and message.status == "for_adviser" and message.text.startswith("Työnhaku\n\n")
    row = db.scalars(select(MailMessage)).one()
    assert row.ticket_id == ticket.id and row.raw.startswith(b"From:")


def test_a_retried_delivery_is_a_no_op(db: Session) -> None:
    first = receive(db, incoming())
    again = receive(db, incoming())
    assert again.duplicate and again.ticket_id == first.ticket_id
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1


def test_a_reply_joins_its_thread_by_reference_or_subject_tag(db: Session) -> None:
    first = receive(db, incoming())
    by_header = receive(db, incoming("<a2@example.fi>", in_reply_to=("<a1@example.fi>",)))
    by_tag = receive(db, incoming("<a3@example.fi>", ticket_ref=first.ticket_id))
    assert by_header.ticket_id == by_tag.ticket_id == first.ticket_id
    assert db.scalar(select(func.count()).select_from(Conversation)) == 1


def test_an_employer_writing_about_dismissals_goes_first(db: Session) -> None:
    received = receive(db, incoming(text="Aloitamme muutosneuvottelut, koskee 30 henkilöä."), queue="employer_advisory")
    ticket = db.get(Ticket, received.ticket_id)
    assert ticket is not None and ticket.topic == "change_security" and ticket.priority == 10


def test_the_assistants_topic_is_recorded_and_answered_when_sure(db: Session) -> None:
    received = receive(db, incoming())
    answer = mail.do_answer_mail(db, received, sender="maija@example.fi", envelope_sender="maija@example.fi",
                                 automatic=False, intent="register_jobseeker", confidence=0.9,
                                 queue="jobseeker_espoo", now=NOW, hours=HOURS)
    assert answer is not None and received.ticket_id in answer.subject and received.ticket_id in answer.body
    assert "—" * 20 in answer.body  # the common answer follows the acknowledgement
    ticket = db.get(Ticket, received.ticket_id)
    assert ticket is not None and ticket.topic == "register_jobseeker"


def test_unsure_or_unknown_topics_get_no_common_answer(db: Session) -> None:
    received = receive(db, incoming())
    assert mail.do_classify_mail(db, received.ticket_id, "register_jobseeker", 0.3) is None
    assert mail.do_classify_mail(db, received.ticket_id, "greet", 0.99) is None
    ticket = db.get(Ticket, received.ticket_id)
    assert ticket is not None and ticket.topic == "register_jobseeker"  # recorded, though not answered


def test_robots_retries_and_floods_are_not_answered(db: Session) -> None:
    received = receive(db, incoming())
    args = {"intent": None, "confidence": 0.0, "queue": "jobseeker_espoo", "now": NOW, "hours": HOURS}
    assert mail.do_answer_mail(db, received, sender="maija@example.fi", envelope_sender="<>", automatic=False,
                               **args) is None  # type: ignore[arg-type]
    assert mail.do_answer_mail(db, received, sender="maija@example.fi", envelope_sender="maija@example.fi",
                               automatic=True, **args) is None  # type: ignore[arg-type]
    retry = receive(db, incoming())
    assert mail.do_answer_mail(db, retry, sender="maija@example.fi", envelope_sender="maija@example.fi",
                               automatic=False, **args) is None  # type: ignore[arg-type]
    for n in range(2, 6):
        receive(db, incoming(f"<a{n}@example.fi>"), now=NOW + timedelta(minutes=n))
    assert not mail.check_acknowledge(db, sender="maija@example.fi", envelope_sender="maija@example.fi",
                                      automatic=False, now=NOW + timedelta(minutes=10))


def test_a_reply_from_someone_else_starts_its_own_ticket(db: Session) -> None:
    first = receive(db, incoming())
    ticket = db.get(Ticket, first.ticket_id)
    assert ticket is not None
    ticket.status, ticket.closed_at, ticket.outcome = "closed", NOW, "answered"
    db.commit()
    # knowing the Message-ID or the ticket reference is not enough to write into Maija's ticket
    by_header = receive(db, incoming("<x1@evil.example>", sender="mallory@evil.example",
                                     in_reply_to=("<a1@example.fi>",)))
    by_tag = receive(db, incoming("<x2@evil.example>", sender="mallory@evil.example", ticket_ref=first.ticket_id))
    no_sender = receive(db, incoming("<x3@evil.example>", sender="", ticket_ref=first.ticket_id))
    assert len({first.ticket_id, by_header.ticket_id, by_tag.ticket_id, no_sender.ticket_id}) == 4
    db.refresh(ticket)
    assert ticket.status == "closed"  # not reopened
    assert db.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == ticket.conversation_id)) == 1
    # Maija herself, whatever the case of her address, joins and reopens it
    again = receive(db, incoming("<a2@example.fi>", sender="Maija@Example.FI", in_reply_to=("<a1@example.fi>",)))
    assert again.ticket_id == first.ticket_id
    db.refresh(ticket)
    assert ticket.status == "queued"


def test_mail_to_two_mailboxes_is_a_ticket_in_each_queue(db: Session) -> None:
    def to(mailbox: str, queue: str) -> mail.ReceivedMail:
        return mail.do_receive_mail(db, incoming(), mailbox=mailbox, queue=queue, now=NOW, hours=HOURS,
                                    home_area="espoo", reopen_days=7)

    employers = to("employers@luotsi.localhost", "employer_advisory")
    jobseekers = to("jobseekers@luotsi.localhost", "jobseeker_espoo")
    assert not employers.duplicate and not jobseekers.duplicate and employers.ticket_id != jobseekers.ticket_id
    queues = {t.queue for t in db.scalars(select(Ticket))}
    assert queues == {"employer_advisory", "jobseeker_espoo"}
    assert to("jobseekers@luotsi.localhost", "jobseeker_espoo").duplicate  # a retry is still a no-op
    assert db.scalar(select(func.count()).select_from(MailMessage)) == 2
    # a reply to the thread joins the ticket of the mailbox it is sent to
    reply = mail.do_receive_mail(db, incoming("<a2@example.fi>", in_reply_to=("<a1@example.fi>",)),
                                 mailbox="jobseekers@luotsi.localhost", queue="jobseeker_espoo", now=NOW,
                                 hours=HOURS, home_area="espoo", reopen_days=7)
    assert reply.ticket_id == jobseekers.ticket_id
    # both copies count as one mail towards the sender's acknowledgements (three a day)
    for mailbox, queue in (("employers@luotsi.localhost", "employer_advisory"),
                           ("jobseekers@luotsi.localhost", "jobseeker_espoo")):
        mail.do_receive_mail(db, incoming("<a3@example.fi>"), mailbox=mailbox, queue=queue, now=NOW, hours=HOURS,
                             home_area="espoo", reopen_days=7)
    assert mail.check_acknowledge(db, sender="maija@example.fi", envelope_sender="maija@example.fi",
                                  automatic=False, now=NOW, message_id="<a3@example.fi>")
