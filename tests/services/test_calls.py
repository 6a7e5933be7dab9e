"""The phone menu in the core (bot/services/calls.py): the call's state, its transcript line, its
ticket and the reply the adapter renders. The TwiML path through the signed webhooks is in
tests/test_phone.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.errors import NotFound
from bot.models import Conversation, Message, PhoneCall, Shift, Ticket
from bot.services import callbacks, calls, shifts, topics

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)  # a Wednesday, 10:00 in Helsinki
CALLER = "+358401234567"
NUMBERS = {("employer_advisory", "vantaa"): "+358933333333"}
CONTEXT = calls.CallContext(hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo",
                            reopen_days=7, number_of=lambda queue, city: NUMBERS.get((queue, city)),
                            windows=callbacks.WINDOWS)


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def step(db: Session, name: str, digits: str | None, sid: str = "CA1", dial_status: str | None = None) -> calls.CallReply:
    return calls.do_answer_call_step(db, call_sid=sid, step=name, digits=digits, dial_status=dial_status, now=NOW,
                                     context=CONTEXT)


def test_a_call_gets_the_conversation_of_its_number(db: Session) -> None:
    call = calls.do_start_call(db, call_sid="CA1", caller="040 123 4567", now=NOW)
    again = calls.do_start_call(db, call_sid="CA1", caller="040 123 4567", now=NOW)
    assert again.conversation_id == call.conversation_id and call.caller == CALLER
    conversation = db.get(Conversation, call.conversation_id)
    assert conversation is not None and conversation.channel == "phone" and conversation.external_id == CALLER


def test_an_anonymous_call_is_keyed_by_its_call_id(db: Session) -> None:
    call = calls.do_start_call(db, call_sid="CA2", caller="anonymous", now=NOW)
    conversation = db.get(Conversation, call.conversation_id)
    assert call.caller is None and conversation is not None and conversation.external_id == "call:CA2"


def test_unknown_calls_and_steps_are_domain_errors(db: Session) -> None:
    with pytest.raises(NotFound, match="no such call"):
        step(db, "role", "1", sid="nope")
    calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    with pytest.raises(NotFound, match="no such step"):
        step(db, "dance", "1")


def test_the_chosen_language_is_the_conversations(db: Session) -> None:
    call = calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    reply = step(db, "language", "5")
    assert reply == calls.Ask("uk", "role", calls.Prompt("sys_phone_role_menu"),
                                (calls.Prompt("sys_phone_greeting"),))  # the AI disclosure in Ukrainian too
    conversation = db.get(Conversation, call.conversation_id)
    assert conversation is not None and conversation.language == "uk"


def test_an_employer_is_put_through_to_the_city_on_shift_and_the_path_is_noted(db: Session) -> None:
    db.add(Shift(city="vantaa", queue="employer_advisory", channel=None, starts_at=NOW - timedelta(hours=1),
                 ends_at=NOW + timedelta(hours=4)))
    db.commit()
    call = calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    step(db, "language", "1")
    step(db, "role", "1")
    reply = step(db, "topic", "3")  # "something else" is still the employer advisory's
    assert reply == calls.Connect("fi", "+358933333333", (calls.Prompt("sys_phone_connecting"),))
    line = db.scalars(select(Message).where(Message.conversation_id == call.conversation_id)).one()
    assert line.text == "📞 fi · employer · employer_other"


def test_nobody_on_shift_offers_a_callback_and_makes_its_ticket(db: Session) -> None:
    calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    step(db, "language", "1")
    step(db, "role", "2")
    offer = step(db, "topic", "1")
    assert isinstance(offer, calls.Ask) and offer.step == "callback" and offer.before[0].key == "sys_phone_closed"
    assert step(db, "callback", "1") == calls.Ask("fi", "window", calls.Prompt("sys_phone_window_menu"))
    goodbye = step(db, "window", "2")
    assert isinstance(goodbye, calls.Goodbye) and goodbye.prompt.values["window"] == "12 ja 16"
    call = db.get(PhoneCall, "CA1")
    assert call is not None and call.step == "done"
    ticket = db.get(Ticket, call.ticket_id)
    assert ticket is not None and ticket.queue == "callbacks" and ticket.topic == "register_jobseeker"
    assert ticket.contact and ticket.contact["phone"] == CALLER and ticket.contact["window"] == "afternoon"


def test_three_wrong_keys_end_the_call_with_a_remark_before_each_retry(db: Session) -> None:
    calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    step(db, "language", "2")
    first = step(db, "role", "7")
    assert isinstance(first, calls.Ask) and [p.key for p in first.before] == ["sys_phone_invalid"]
    repeat = step(db, "role", calls.REPEAT)
    assert isinstance(repeat, calls.Ask) and repeat.before == ()
    assert step(db, "role", None) == calls.Goodbye("sv")


def test_a_hang_up_in_the_menu_becomes_an_abandoned_callback(db: Session) -> None:
    calls.do_start_call(db, call_sid="CA1", caller=CALLER, now=NOW)
    step(db, "language", "1")
    calls.do_end_call(db, call_sid="CA1", status="completed", now=NOW, context=CONTEXT)
    call = db.get(PhoneCall, "CA1")
    assert call is not None and call.step == "abandoned"
    ticket = db.get(Ticket, call.ticket_id)
    assert ticket is not None and ticket.contact and ticket.contact["abandoned"] is True
    calls.do_end_call(db, call_sid="CA1", status="completed", now=NOW, context=CONTEXT)  # a repeat: nothing new
    assert len(db.scalars(select(Ticket)).all()) == 1


def test_the_menus_topics_are_in_the_one_topic_list() -> None:
    for role, menu in calls.MENU_TOPICS.items():
        for topic in menu.values():
            assert topic in topics.TOPICS | topics.OTHER_TOPICS
            queue = topics.choose_queue(topic, calls.CHANNEL, "espoo")
            assert queue == ("employer_advisory" if role == "employer" else "jobseeker_espoo")
