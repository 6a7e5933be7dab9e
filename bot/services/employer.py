"""Employers' structured intake (issue 17): a recruitment assignment (rekrytointitoimeksianto) and a
change-security notice (muutosturva), checked, mapped to what may apply, and made into a ticket.

Every way in — the public API, the plain web form and the chat flow — ends here: `check_*`
validates a dict shaped like the API body and lists *every* field error at once (`InvalidIntake`),
`do_submit_*` stores the ticket with the packet as its `intake` in one transaction.

Which supports may apply to a recruitment (`supports`; facts from docs FACTS.md "Employer services"):
- `rekrytointipalvelu` always: the vacancy goes to Työmarkkinatori and the regional recruitment
  help (the whole capital region) suggests candidates.
- `yhteishankintakoulutus` when a training route is welcome (RekryKoulutus: recruit and train).
- Only when `subsidy_welcome` — whether a subsidy is granted depends mostly on the person hired,
  whom the employer may not know yet, so the rule lists what the *job* does not rule out:
  - `palkkatuki` (pay subsidy) always: it depends on the hiree; the job must not start before the
    decision;
  - `espoo_rekrytointituki` when the job is permanent or lasts at least 12 months, and is at least
    80 % of full time, taken as ≥ 30 h/week (80 % of 37.5 h); it is for hiring an Espoo resident
    under 30 or a foreign-language jobseeker (the text says so);
  - `nuorten_tyollistymisseteli` when the job is permanent or lasts at least 6 months and ≥ 25 h/week;
  - `tyollistamistuki_55` always: it depends only on the hiree (55+, long unemployed).

What a change notice obliges the employer to (`duties`): see `duties`. A notice with 10 or more
affected people is a *coordination* case: its ticket carries `intake.coordination = true` and the
priority `COORDINATION_PRIORITY`, so it stands first in the shared employer advisory and is marked
on the supervisor page (supervisors of every city see every ticket).

The business ID (Y-tunnus) is NNNNNNN-C: the check digit C is 0 when the weighted sum of the body
(weights 7, 9, 10, 5, 8, 4, 2) leaves remainder 0 mod 11, invalid with remainder 1, else 11 − the
remainder. Old IDs written with a 6-digit body ("123456-7") are padded with a leading zero, and the
8 digits may be given without the hyphen; any other form is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import unusable_characters
from bot.models import Conversation, Ticket, TicketEvent
from bot.models.conversation import new_id
from bot.services import metrics, shifts
from bot.services.callbacks import BadNumber, check_phone_number
from bot.services.employer_texts import result_messages as result_messages
from bot.services.skills import skill_need_row
from bot.services.topics import EMPLOYER_QUEUE, URGENT

KINDS = ("dismissal", "layoff")
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
COORDINATION_AT = 10  # affected people from which a change is coordinated across the three cities
COORDINATION_PRIORITY = URGENT + 10  # before the other change-security tickets (URGENT)
MAX_POSITIONS = 500
MAX_HOURS = 80
MAX_MONTHS = 60
MAX_STAFF = 1_000_000
MAX_START_YEARS = 3  # a start date further ahead is a typing error
NEGOTIATIONS_PAST_DAYS = 365  # a notice may come after negotiations started, not a year after
MAX_LANGUAGES = 10
LIMITS = {"name": 200, "contact_name": 120, "title": 200, "municipality": 60, "language": 40,
          "requirements": 2000, "skills_needed": 2000}
_BUSINESS_ID = re.compile(r"(\d{6,7})-(\d)|(\d{7})(\d)")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path as in the API body: "company.business_id", "job.languages.0.level"
    code: str  # required | invalid_business_id | invalid_email | invalid_phone | invalid_date |
    #            date_in_past | out_of_range | too_long | invalid_choice | invalid_characters


class InvalidIntake(Exception):
    """The intake cannot be taken; `errors` lists every field that is wrong."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Submitted:
    ticket_id: str
    queue: str
    status: str
    supports: list[str]
    duties: list[str]
    coordination: bool


# --- single values ----------------------------------------------------------------------------------

def check_business_id(text: str) -> str | None:
    """The business ID as "1234567-1", or None when its form or check digit is wrong."""
    cleaned = re.sub(r"\s", "", str(text)).replace("\u2013", "-").replace("\u2010", "-")
    match = _BUSINESS_ID.fullmatch(cleaned)
    if match is None:
        return None
    body = (match.group(1) or match.group(3)).zfill(7)
    check = int(match.group(2) or match.group(4))
    remainder = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    expected = 0 if remainder == 0 else 11 - remainder
    return f"{body}-{check}" if check == expected else None


def check_email(text: str) -> str | None:
    """The address with its domain in lower case, or None when it is not an e-mail address."""
    value = str(text).strip()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}" if len(local) <= 64 else None


def check_phone(text: str) -> str | None:
    """A Finnish ("040 123 4567") or international ("+46 70 123 45 67", "0046…") number in E.164."""
    try:
        return check_phone_number(str(text))
    except BadNumber:
        return None


def _date(value: Any) -> date | None:
    """ISO "2026-03-01" (what a date field sends) or Finnish "1.3.2026"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        dotted = _DOTTED_DATE.fullmatch(text)
        if dotted:
            return date(int(dotted.group(3)), int(dotted.group(2)), int(dotted.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        return None


class _Checker:
    """Collects the errors of one intake while it builds the normalised packet."""

    def __init__(self, data: Any) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.errors: list[FieldError] = []

    def fail(self, field: str, code: str) -> None:
        self.errors.append(FieldError(field, code))

    def get(self, path: str) -> Any:
        value: Any = self.data
        for part in path.split("."):
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value

    def text(self, path: str, limit: int, *, required: bool = True) -> str | None:
        value = self.get(path)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(path, "required")
            return None
        if not isinstance(value, str):
            self.fail(path, "invalid_choice")
            return None
        if unusable_characters(value) is not None:  # NUL and other control characters: never stored
            self.fail(path, "invalid_characters")
            return None
        value = " ".join(value.split()) if limit <= 200 else value.strip()
        if len(value) > limit:
            self.fail(path, "too_long")
            return None
        return value

    def number(self, path: str, low: float, high: float, *, whole: bool = True,
               required: bool = True) -> int | float | None:
        value = self.get(path)
        if isinstance(value, str) and value.strip():
            try:
                value = float(value.strip().replace(",", "."))
            except ValueError:
                self.fail(path, "out_of_range")
                return None
        if value is None or value == "":
            if required:
                self.fail(path, "required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            self.fail(path, "out_of_range")
            return None
        if (whole and value != int(value)) or not low <= value <= high:
            self.fail(path, "out_of_range")
            return None
        return int(value) if whole or value == int(value) else float(value)

    def flag(self, path: str, *, required: bool = False) -> bool | None:
        value = self.get(path)
        if isinstance(value, str):
            value = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "off": False, "0": False, "": None}.get(value.strip().lower(), value)
        if value is None:
            if required:
                self.fail(path, "required")
                return None
            return False
        if not isinstance(value, bool):
            self.fail(path, "invalid_choice")
            return None
        return value

    def when(self, path: str, *, earliest: date, latest: date, past_code: str = "date_in_past") -> str | None:
        value = self.get(path)
        if value is None or value == "":
            self.fail(path, "required")
            return None
        day = _date(value)
        if day is None:
            self.fail(path, "invalid_date")
        elif day < earliest:
            self.fail(path, past_code)
        elif day > latest:
            self.fail(path, "out_of_range")
        else:
            return day.isoformat()
        return None

    def company_and_contact(self) -> dict[str, Any]:
        name = self.text("company.name", LIMITS["name"])
        business_id = self.get("company.business_id")
        normalised = None
        if business_id in (None, ""):
            self.fail("company.business_id", "required")
        else:
            normalised = check_business_id(str(business_id))
            if normalised is None:
                self.fail("company.business_id", "invalid_business_id")
        contact_name = self.text("contact.name", LIMITS["contact_name"])
        email = self.text("contact.email", 254)
        if email is not None and (email := check_email(email)) is None:  # type: ignore[assignment]
            self.fail("contact.email", "invalid_email")
        phone = self.text("contact.phone", 40, required=False)
        if phone is not None and (phone := check_phone(phone)) is None:  # type: ignore[assignment]
            self.fail("contact.phone", "invalid_phone")
        return {"company": {"name": name, "business_id": normalised},
                "contact": {"name": contact_name, "email": email, "phone": phone}}

    def languages(self, path: str) -> list[dict[str, str]]:
        raw = self.get(path)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(path, "invalid_choice")
            return []
        if len(raw) > MAX_LANGUAGES:
            self.fail(path, "out_of_range")
            return []
        found = []
        for i, _ in enumerate(raw):
            language = self.text(f"{path}.{i}.language", LIMITS["language"])
            level = self.get(f"{path}.{i}.level")
            if level in (None, ""):
                self.fail(f"{path}.{i}.level", "required")
                continue
            level = str(level).strip() if isinstance(level, str) else None
            level = level if level == "native" else (level or "").upper()
            if level not in LEVELS:
                self.fail(f"{path}.{i}.level", "invalid_choice")
            elif language is not None:
                found.append({"language": language, "level": level})
        return found

    def done(self, packet: dict[str, Any]) -> dict[str, Any]:
        if self.errors:
            raise InvalidIntake(self.errors)
        return packet


def check_assignment(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The recruitment assignment, normalised (the API body without "language"); InvalidIntake
    listing every wrong field. Rules: positions 1–500, hours 1–80 a week, a fixed-term job 1–60
    months (months are dropped for a permanent job), a start date from today to 3 years ahead,
    up to 10 languages at CEFR levels A1–C2 or "native"."""
    c = _Checker(data)
    packet = c.company_and_contact()
    latest = today.replace(year=today.year + MAX_START_YEARS, day=min(today.day, 28))
    job: dict[str, Any] = {
        "title": c.text("job.title", LIMITS["title"]),
        "positions": c.number("job.positions", 1, MAX_POSITIONS),
        "municipality": c.text("job.municipality", LIMITS["municipality"]),
        "start_date": c.when("job.start_date", earliest=today, latest=latest),
        "permanent": c.flag("job.permanent", required=True),
    }
    job["months"] = None if job["permanent"] else c.number("job.months", 1, MAX_MONTHS,
                                                           required=job["permanent"] is False)
    job["hours_per_week"] = c.number("job.hours_per_week", 1, MAX_HOURS, whole=False)
    job["languages"] = c.languages("job.languages")
    job["requirements"] = c.text("job.requirements", LIMITS["requirements"], required=False)
    packet["job"] = job
    for name in ("training_route_welcome", "subsidy_welcome", "share_across_region"):
        packet[name] = c.flag(name)
    packet["skills_needed"] = c.text("skills_needed", LIMITS["skills_needed"], required=False)
    return c.done(packet)


def check_change_notice(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The change-security notice, normalised (the API body without "language"); InvalidIntake
    listing every wrong field. Staff 1–1,000,000, affected 1–staff ("affected" out_of_range when
    more than the staff), kind dismissal or layoff, negotiations starting at most a year ago (a
    notice may come after they started) and at most 3 years ahead."""
    c = _Checker(data)
    packet = c.company_and_contact()
    staff = c.number("staff", 1, MAX_STAFF)
    affected = c.number("affected", 1, MAX_STAFF)
    if staff is not None and affected is not None and affected > staff:
        c.fail("affected", "out_of_range")
    kind = c.get("kind")
    if kind in (None, ""):
        c.fail("kind", "required")
    elif kind not in KINDS:
        c.fail("kind", "invalid_choice")
    packet.update(
        staff=staff, affected=affected, kind=kind,
        negotiations_start=c.when("negotiations_start", earliest=today - timedelta(days=NEGOTIATIONS_PAST_DAYS),
                                  latest=today.replace(year=today.year + MAX_START_YEARS, day=min(today.day, 28)),
                                  past_code="out_of_range"),
        skills_needed=c.text("skills_needed", LIMITS["skills_needed"], required=False),
    )
    return c.done(packet)


# --- rules ------------------------------------------------------------------------------------------

def duties(*, staff: int, affected: int, kind: str) -> list[str]:
    """What change security obliges the employer to, from FACTS.md:

    - `notify_authority`: 20+ staff, when change negotiations start — dismissals and lay-offs alike;
    - `action_plan` (10+ dismissals) or `operating_principles` (fewer): only for dismissals, and only
      with 20+ staff (the same employers who negotiate and notify). FACTS.md ties the plan to
      dismissals, so a lay-off gets neither; the adviser checks a long lay-off with the employer;
    - `training_duty`: dismissals by an employer with 30+ staff (for employees with 5+ years' service);
    - `employment_leave`: every dismissal (paid leave to look for work during the notice period);
    - `extra_security_55`: every dismissal may include someone 55+ with 5+ years at the employer.
    """
    found = []
    dismissal = kind == "dismissal"
    if staff >= 20:
        found.append("notify_authority")
        if dismissal:
            found.append("action_plan" if affected >= 10 else "operating_principles")
    if dismissal and staff >= 30:
        found.append("training_duty")
    if dismissal:
        found += ["employment_leave", "extra_security_55"]
    return found


def is_coordination(affected: int) -> bool:
    """10 or more people: a change the three cities coordinate; fewer: the joint advisory's own case."""
    return affected >= COORDINATION_AT


def supports(packet: dict[str, Any]) -> list[str]:
    """The services that may apply to the recruitment (the rule: this module's docstring)."""
    job = packet.get("job") or {}
    lasting = bool(job.get("permanent"))
    months = job.get("months") or 0
    hours = job.get("hours_per_week") or 0
    found = ["rekrytointipalvelu"]
    if packet.get("subsidy_welcome"):
        found.append("palkkatuki")
        found.append("tyollistamistuki_55")
        if (lasting or months >= 12) and hours >= 30:
            found.append("espoo_rekrytointituki")
        if (lasting or months >= 6) and hours >= 25:
            found.append("nuorten_tyollistymisseteli")
    if packet.get("training_route_welcome"):
        found.append("yhteishankintakoulutus")
    order = ("palkkatuki", "tyollistamistuki_55", "espoo_rekrytointituki", "nuorten_tyollistymisseteli",
             "rekrytointipalvelu", "yhteishankintakoulutus")
    return sorted(found, key=order.index)


# --- submitting -------------------------------------------------------------------------------------

def _conversation(session: Session, conversation_id: str | None, channel: str, language: str,
                  now: datetime) -> Conversation:
    """The chat's own conversation, or a new one for a submission through the API or the form (a
    ticket always belongs to a conversation; the adviser's replies go there)."""
    if conversation_id is not None:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise LookupError("no such conversation")
        return conversation
    conversation = Conversation(id=new_id(), channel=channel, external_id=f"employer-intake:{new_id()}",
                                language=language, handler="human", created_at=now, updated_at=now)
    session.add(conversation)
    return conversation


def _do_submit(session: Session, packet: dict[str, Any], *, kind: str, language: str, now: datetime,
               conversation_id: str | None, channel: str, found: list[str], coordination: bool,
               commit: bool) -> Submitted:
    conversation = _conversation(session, conversation_id, channel, language, now)
    conversation.handler = "human"
    # "type" says which intake it is ("kind" is the change notice's own field: dismissal or layoff)
    intake = {"type": kind, **packet, ("supports" if kind == "assignment" else "duties"): found}
    if kind == "change_notice":
        intake["coordination"] = coordination
    topic = "recruiting_help" if kind == "assignment" else "change_security"
    priority = COORDINATION_PRIORITY if coordination else (URGENT if kind == "change_notice" else 0)
    city = shifts.city_on_shift(session, EMPLOYER_QUEUE, conversation.channel, now)
    speakers = shifts.on_shift_languages(session, EMPLOYER_QUEUE, city)
    ticket = Ticket(conversation_id=conversation.id, channel=conversation.channel, queue=EMPLOYER_QUEUE,
                    status="queued", priority=priority, language=language, city_on_shift=city,
                    needs_interpreter=bool(city) and language not in speakers,
                    reason="employer_intake", topic=topic, summary=None,
                    contact={"channel": conversation.channel, **{k: v for k, v in packet["contact"].items() if v}},
                    consent=True, intake=intake, created_at=now)
    try:
        session.add(ticket)
        session.flush()
        session.add(TicketEvent(ticket_id=ticket.id, kind="created", at=now,
                                data={"queue": EMPLOYER_QUEUE, "city_on_shift": city, "reason": "employer_intake"}))
        if packet.get("skills_needed"):
            session.add(skill_need_row(packet, kind=kind, language=language, now=now))
        if commit:
            session.commit()
        else:
            session.flush()  # the chat's turn commits it with the customer's message and the answers
    except Exception:
        session.rollback()  # all or nothing: no ticket without its conversation, no skills row alone
        raise
    metrics.count_handoff("employer_intake")
    return Submitted(ticket_id=ticket.id, queue=ticket.queue, status=ticket.status,
                     supports=found if kind == "assignment" else [],
                     duties=found if kind == "change_notice" else [], coordination=coordination)


def do_submit_assignment(session: Session, packet: dict[str, Any], *, language: str, now: datetime,
                         conversation_id: str | None = None, channel: str = "web", commit: bool = True) -> Submitted:
    """A ticket in the employer advisory carrying the checked assignment (`check_assignment`) as its
    intake; a new web conversation unless the chat's own is given. One transaction; with
    `commit=False` the caller's (a chat turn's) transaction."""
    return _do_submit(session, packet, kind="assignment", language=language, now=now,
                      conversation_id=conversation_id, channel=channel, found=supports(packet), coordination=False,
                      commit=commit)


def do_submit_change_notice(session: Session, packet: dict[str, Any], *, language: str, now: datetime,
                            conversation_id: str | None = None, channel: str = "web",
                            commit: bool = True) -> Submitted:
    """A ticket in the employer advisory carrying the checked notice (`check_change_notice`); 10 or
    more affected make it a coordination ticket. One transaction."""
    return _do_submit(session, packet, kind="change_notice", language=language, now=now,
                      conversation_id=conversation_id, channel=channel,
                      found=duties(staff=packet["staff"], affected=packet["affected"], kind=packet["kind"]),
                      coordination=is_coordination(packet["affected"]), commit=commit)


__all__ = ["FieldError", "InvalidIntake", "Submitted", "check_assignment", "check_business_id",
           "check_change_notice", "check_email", "check_phone", "do_submit_assignment", "do_submit_change_notice",
           "duties", "is_coordination", "result_messages", "supports"]
