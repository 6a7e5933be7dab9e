"""Employers' intakes as guided chat conversations (issue 17): a recruitment assignment
(rekrytointitoimeksianto) and a change-security notice (muutosturva), in the web chat and Telegram.

Rasa starts them like the other guided conversations (intents `recruitment_assignment` and
`change_notice` start `guidance_form`); bot/services/guidance.py hands their turns here. One
question at a time, buttons where there are choices. Each answer is checked as it comes — with
the same checks as the API (bot/services/employer.py) — and a wrong one is said in the employer's
language with the same question again; nothing is kept until the whole packet is sent. Before
sending, a summary with "Send" and "Change an answer": one answer can be corrected without starting
over (a button per field, or typed: "change e-mail"). "Stop" ends the flow with nothing sent;
asking for a person hands off as in any guided conversation (Rasa's rule).

Sending goes through `do_submit_*` of bot/services/employer.py, like POST /api/employer/*: the
ticket carries the packet as its `intake`, the turn's answer carries the ticket, and the last
messages are the service's own result texts. The state lives on `conversation.guidance`:
{"flow", "language", "answers": {dotted API path: value}, "asking", "returning", "draft"}.
Texts: bot/locales/employer_flow/<lang>.yml.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.locales import HELSINKI, fill, folder_texts
from bot.messages import Button, OutboundMessage, TicketRef
from bot.models import Conversation
from bot.services import employer
from bot.services.guidance_texts import guidance
from nlu import langid

FLOWS = ("assignment", "change_notice")
TEXTS_DIR = Path(__file__).resolve().parent.parent / "locales" / "employer_flow"
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
MUNICIPALITIES = ("Espoo", "Helsinki", "Vantaa", "Kauniainen")
SWEDISH_NAMES = {"esbo": "Espoo", "helsingfors": "Helsinki", "vanda": "Vantaa", "grankulla": "Kauniainen"}
LANGUAGE_BUTTONS = ("fi", "sv", "en")
SUMMARY, CHANGE, LEVEL, MORE = "summary", "change", "language_level", "languages_more"
MAX_TEXT = 200  # one line of a form; the API's own limits are checked too

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Field:
    path: str  # the API body's dotted path, also the key of the answer and of its texts
    kind: str  # text | business_id | email | phone | count | hours | date | choice | yes_no | municipality | languages | optional
    choices: tuple[str, ...] = ()
    needed: Callable[[dict[str, Any]], bool] = lambda answers: True


COMPANY = (Field("company.name", "text"), Field("company.business_id", "business_id"),
           Field("contact.name", "text"), Field("contact.email", "email"), Field("contact.phone", "phone"))
ASSIGNMENT = (
    *COMPANY,
    Field("job.title", "text"),
    Field("job.positions", "count"),
    Field("job.municipality", "municipality"),
    Field("job.start_date", "date"),
    Field("job.permanent", "choice", ("permanent", "fixed_term")),
    Field("job.months", "count", needed=lambda answers: answers.get("job.permanent") is False),
    Field("job.hours_per_week", "hours"),
    Field("job.languages", "languages"),
    Field("job.requirements", "text"),
    Field("training_route_welcome", "yes_no"),
    Field("subsidy_welcome", "yes_no"),
    Field("share_across_region", "yes_no"),
    Field("skills_needed", "optional"),
)
CHANGE_NOTICE = (
    *COMPANY,
    Field("staff", "count"),
    Field("affected", "count"),
    Field("kind", "choice", ("dismissal", "layoff")),
    Field("negotiations_start", "date"),
    Field("skills_needed", "optional"),
)
FIELDS = {"assignment": ASSIGNMENT, "change_notice": CHANGE_NOTICE}
CHECKS = {"assignment": employer.check_assignment, "change_notice": employer.check_change_notice}
SUBMITS = {"assignment": employer.do_submit_assignment, "change_notice": employer.do_submit_change_notice}


@dataclass(frozen=True)
class Reply:
    messages: list[OutboundMessage]
    done: bool
    ticket: TicketRef | None = None


class _Wrong(Exception):
    """An answer that cannot be taken: `code` names the error text."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# --- texts ----------------------------------------------------------------------------------------

def texts(language: str | None) -> dict[str, Any]:
    """A language's texts; English for a language without its own file."""
    return folder_texts(TEXTS_DIR, language)


def _t(lang: str, section: str, key: str, /, **values: Any) -> str:
    found = texts(lang).get(section, {}).get(key)
    return fill(str(found if found is not None else texts("en")[section][key]), values)


def _msg(text: str, buttons: list[tuple[str, str]] | None = None) -> OutboundMessage:
    return OutboundMessage(text=text, buttons=tuple(Button(title=t, payload=p) for t, p in buttons or []))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = re.sub(r"[\u064b-\u0652\u0640]", "", text)  # Arabic diacritics and tatweel
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return re.sub(r"[\s.!?,;:()«»\"'’`]+", " ", text).strip()


def _digits(text: str) -> str:
    """Any script's digits as ASCII ("٣" → "3")."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=32)
def _words(language: str, kind: str) -> frozenset[str]:
    """What an employer may type for `kind` (send, change, skip, yes, stop…): the button's title and
    the words of the flow's language, of English, and (yes/no/stop) of the self-assessment's answers
    in every tier-1 language."""
    found = {_norm(str(w)) for lang in dict.fromkeys([language, "en"]) for w in texts(lang).get("words", {}).get(kind, [])}
    found |= {_norm(str(texts(lang).get("options", {}).get(kind, ""))) for lang in dict.fromkeys([language, "en"])}
    if kind in ("yes", "no", "stop"):
        order = [language] + [lang for lang in langid.TIER1 if lang != language]
        found |= {_norm(str(w)) for lang in order for w in guidance(lang)["answers"].get(kind, [])}
    found.add(kind)
    return frozenset(w for w in found if w)


def _means(text: str, language: str, kind: str) -> bool:
    return _norm(text) in _words(language, kind)


# --- questions --------------------------------------------------------------------------------------

def _field(flow: str, path: str) -> Field:
    return next(f for f in FIELDS[flow] if f.path == path)


def _question(state: dict[str, Any], path: str) -> OutboundMessage:
    language, flow = state["language"], state["flow"]
    if path == LEVEL:
        name = _language_name(state["draft_pending"], language)
        return _msg(_t(language, "questions", LEVEL, language=name), [(level, level) for level in LEVELS])
    if path == MORE:
        shown = _languages_text(state.get("draft") or [], language)
        return _msg(_t(language, "questions", MORE, languages=shown),
                    [(_t(language, "options", "more"), "more"), (_t(language, "options", "done"), "done")])
    field = _field(flow, path)
    buttons: list[tuple[str, str]] = []
    if field.kind == "choice":
        buttons = [(_t(language, "options", c), c) for c in field.choices]
    elif field.kind == "yes_no":
        buttons = [(_t(language, "options", "yes"), "yes"), (_t(language, "options", "no"), "no")]
    elif field.kind == "municipality":
        buttons = [(m, m) for m in MUNICIPALITIES]
    elif field.kind == "languages":
        buttons = [(_language_name(c, language), f"lang:{c}") for c in LANGUAGE_BUTTONS]
        buttons.append((_t(language, "options", "none"), "none"))
    elif field.kind == "optional":
        buttons = [(_t(language, "options", "skip"), "skip")]
    return _msg(_t(language, "questions", path), buttons)


def _next(state: dict[str, Any]) -> str:
    """The first field still to answer, or the summary."""
    answers = state["answers"]
    for field in FIELDS[state["flow"]]:
        if field.needed(answers) and field.path not in answers:
            return field.path
    return SUMMARY


def _ask(state: dict[str, Any], path: str, before: list[OutboundMessage] | None = None) -> Reply:
    state["asking"] = path
    return Reply(messages=[*(before or []), _question(state, path)], done=False)


# --- reading one answer -------------------------------------------------------------------------------

def _today(now: datetime) -> date:
    return now.astimezone(HELSINKI).date()


def read_date(text: str, today: date) -> date:
    """"1.3.2027", "1.3.27", "2027-03-01", "1/3/2027", or "1.3." (the next 1 March)."""
    said = _digits(text).strip().rstrip(".")
    try:
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", said)
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        local = re.fullmatch(r"(\d{1,2})\s*[./]\s*(\d{1,2})(?:\s*[./]\s*(\d{2}|\d{4}))?", said)
        if local:
            day, month = int(local.group(1)), int(local.group(2))
            if local.group(3) is None:
                found = date(today.year, month, day)
                return found if found >= today else date(today.year + 1, month, day)
            year = int(local.group(3))
            return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        pass
    raise _Wrong("invalid_date")


def _read_number(text: str, *, whole: bool) -> int | float:
    said = _digits(text).strip()
    found = re.fullmatch(r"(?:[^\d]{0,20}?)(\d+(?:[.,]\d+)?)(?:[^\d]{0,20})", said)
    if not found:
        raise _Wrong("not_a_number")
    if re.search(r"[-\u2212]\s*$", said[:found.start(1)]):  # "-3"
        raise _Wrong("out_of_range")
    value = float(found.group(1).replace(",", "."))
    if whole and value != int(value):
        raise _Wrong("out_of_range")
    return int(value) if value == int(value) else value


def _read_option(text: str, language: str, choices: tuple[str, ...]) -> str:
    said = _norm(text)
    for choice in choices:
        if said == choice or _means(text, language, choice):
            return choice
    for choice in choices:  # a longer sentence that names one option only ("fixed term for a year")
        hits = [c for c in choices if any(len(w) >= 4 and re.search(rf"(?<!\w){re.escape(w)}", said)
                                          for w in _words(language, c))]
        if hits == [choice]:
            return choice
    raise _Wrong("invalid_choice")


def _language_name(code: str, language: str) -> str:
    return str(texts(language).get("languages", {}).get(code) or texts("en")["languages"].get(code) or code)


@lru_cache(maxsize=1)
def _language_stems() -> list[tuple[str, str]]:
    """(word beginning, code) for every language name in every text file, longest first: "suom",
    "finn", "fins", "русс"… — enough to read "suomea B1" or "englanti B2"."""
    stems: dict[str, str] = {}
    for path in sorted(TEXTS_DIR.glob("*.yml")):
        for code, name in (texts(path.stem).get("languages") or {}).items():
            for word in re.findall(r"\w+", _norm(str(name))):
                if len(word) >= 4:
                    stems.setdefault(word[:max(4, len(word) - 3)], str(code))
    return sorted(stems.items(), key=lambda item: -len(item[0]))


def read_languages(text: str, language: str) -> list[dict[str, str | None]]:
    """"Finnish B1, English B2" → [{"language": "fi", "level": "B1"}, …]; a language without a
    level has level None (asked next); raises when nothing is recognised."""
    said = _norm(_digits(text))
    found: list[dict[str, str | None]] = []
    for token in re.findall(r"(?<![^\W\d_])[abc][12](?!\w)|[^\W\d_]+", said):
        level = token.upper() if re.fullmatch(r"[abc][12]", token) else None
        if level is not None:
            if not found or found[-1]["level"] is not None:
                raise _Wrong("unknown_language")
            found[-1]["level"] = level
            continue
        code = next((c for stem, c in _language_stems() if token.startswith(stem)), None)
        if code is not None and all(item["language"] != code for item in found):
            found.append({"language": code, "level": None})
    if not found:
        raise _Wrong("unknown_language")
    return found


def _languages_text(items: list[dict[str, Any]], language: str) -> str:
    if not items:
        return _t(language, "texts", "none")
    return ", ".join(f"{_language_name(i['language'], language)} {i['level']}" for i in items)


def _read(field: Field, text: str, state: dict[str, Any], today: date) -> Any:
    """The value of one answer, or _Wrong saying why not."""
    language = state["language"]
    said = " ".join(text.split())
    if field.kind == "optional":
        if _means(text, language, "skip") or _means(text, language, "no"):
            return None
        if len(said) > 2000:
            raise _Wrong("too_long")
        return said or None
    if not said:
        raise _Wrong("required")
    if field.kind == "text" or field.kind == "municipality":
        if len(said) > MAX_TEXT:
            raise _Wrong("too_long")
        if field.kind == "municipality":
            known = {_norm(m): m for m in MUNICIPALITIES} | SWEDISH_NAMES
            return known.get(_norm(said), said)
        return said
    if field.kind == "business_id":
        return employer.check_business_id(said) or _raise("invalid_business_id")
    if field.kind == "email":
        return employer.check_email(said) or _raise("invalid_email")
    if field.kind == "phone":
        return employer.check_phone(said) or _raise("invalid_phone")
    if field.kind in ("count", "hours"):
        value = _read_number(said, whole=field.kind == "count")
        if value <= 0:
            raise _Wrong("out_of_range")
        staff = state["answers"].get("staff")
        if field.path == "affected" and isinstance(staff, int) and value > staff:
            raise _Wrong("affected_over_staff", staff=staff)
        return value
    if field.kind == "date":
        found = read_date(said, today)
        if field.path == "job.start_date" and found < today:
            raise _Wrong("date_in_past")
        return found.isoformat()
    if field.kind == "yes_no":
        return _read_option(text, language, ("yes", "no")) == "yes"
    if field.kind == "choice":
        choice = _read_option(text, language, field.choices)
        return choice != "fixed_term" if field.path == "job.permanent" else choice
    raise ValueError(field.kind)


def _raise(code: str) -> Any:
    raise _Wrong(code)


def _api_verdict(state: dict[str, Any], path: str, today: date) -> str | None:
    """The API's own error for this field given the answers so far (limits this flow does not
    repeat: too long, too many, too far ahead), or None. Other fields' errors wait for the summary."""
    try:
        CHECKS[state["flow"]](packet(state), today=today)
    except employer.InvalidIntake as bad:
        for error in bad.errors:
            if (error.field == path or error.field.startswith(path + ".")) and error.code != "required":
                return error.code
    return None


# --- the packet ---------------------------------------------------------------------------------------

def packet(state: dict[str, Any]) -> dict[str, Any]:
    """The answers in the API body's shape ("skills_needed" only when answered)."""
    body: dict[str, Any] = {"language": state["language"]}
    for path, value in state["answers"].items():
        if path == "skills_needed" and not value:
            continue
        if path == "job.months" and state["answers"].get("job.permanent") is not False:
            continue
        outer = body
        *parents, leaf = path.split(".")
        for part in parents:
            outer = outer.setdefault(part, {})
        outer[leaf] = value
    return body


def _shown(state: dict[str, Any], path: str) -> str:
    language, value = state["language"], state["answers"].get(path)
    field = _field(state["flow"], path)
    if value is None or value == "":
        return _t(language, "texts", "skipped")
    if field.kind == "yes_no":
        return _t(language, "options", "yes" if value else "no")
    if path == "job.permanent":
        months = state["answers"].get("job.months")
        if value:
            return _t(language, "options", "permanent")
        return _t(language, "texts", "fixed_term_months", months=months) if months else _t(language, "options", "fixed_term")
    if field.kind == "choice":
        return _t(language, "options", str(value))
    if field.kind == "date":
        day = date.fromisoformat(str(value))
        return f"{day.day}.{day.month}.{day.year}"
    if field.kind == "languages":
        return _languages_text(value, language)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _summary(state: dict[str, Any], before: list[OutboundMessage] | None = None) -> Reply:
    language = state["language"]
    lines = [_t(language, "texts", "summary_header")]
    for field in FIELDS[state["flow"]]:
        if field.path == "job.months" or not field.needed(state["answers"]):
            continue  # the months are shown with "fixed-term"
        lines.append(f"• {_t(language, 'labels', field.path)}: {_shown(state, field.path)}")
    lines += ["", _t(language, "texts", "summary_footer")]
    buttons = [(_t(language, "options", "send"), "send"), (_t(language, "options", "change"), "change"),
               (_t(language, "options", "stop"), "stop")]
    state["asking"] = SUMMARY
    state["returning"] = False
    return Reply(messages=[*(before or []), _msg("\n".join(lines), buttons)], done=False)


def _change_list(state: dict[str, Any], before: list[OutboundMessage] | None = None) -> Reply:
    language = state["language"]
    buttons = [(_t(language, "labels", f.path), f"edit:{f.path}") for f in FIELDS[state["flow"]]
               if f.needed(state["answers"])]
    state["asking"] = CHANGE
    return Reply(messages=[*(before or []), _msg(_t(language, "texts", "change_which"), buttons)], done=False)


def _named_field(text: str, state: dict[str, Any]) -> str | None:
    """The field an employer names: a button's payload "edit:contact.email", or typed words
    ("change e-mail", "muuta puhelinnumero") matched against the fields' labels and aliases."""
    paths = [f.path for f in FIELDS[state["flow"]] if f.needed(state["answers"])]
    if text.strip().startswith("edit:"):
        return text.strip()[5:] if text.strip()[5:] in paths else None
    said = _norm(text)
    best: tuple[int, str] | None = None
    for lang in dict.fromkeys([state["language"], "en"]):
        cat = texts(lang)
        for path in paths:
            names = [str(cat.get("labels", {}).get(path, "")), *(str(a) for a in cat.get("aliases", {}).get(path, []))]
            for name in names:
                word = _norm(name)
                if len(word) >= 3 and re.search(rf"(?<!\w){re.escape(word)}", said):
                    if best is None or len(word) > best[0]:
                        best = (len(word), path)
    return best[1] if best else None


def _wants_change(text: str, language: str) -> bool:
    said = _norm(text)
    return said == "change" or any(said == w or said.startswith(w + " ") for w in _words(language, "change"))


# --- one turn ---------------------------------------------------------------------------------------

def start(conversation: Conversation, flow: str, language: str) -> Reply:
    if flow not in FLOWS:
        raise ValueError(flow)
    state: dict[str, Any] = {"flow": flow, "language": language, "answers": {}, "asking": None, "returning": False}
    reply = _ask(state, _next(state), [_msg(_t(language, "intro", flow))])
    _save(conversation, state)
    return reply


def turn(session: Session | None, conversation: Any, state: dict[str, Any], text: str, *, now: datetime,
         probe: bool = False) -> Reply:
    """Take one answer. `probe`: only find out whether it ends the flow (nothing written, nothing sent)."""
    language, asking = state["language"], state.get("asking")
    if _means(text, language, "stop"):
        if probe:
            return Reply(messages=[], done=True)
        conversation.guidance = None
        restart = "/recruitment_assignment" if state["flow"] == "assignment" else "/change_notice"
        return Reply(messages=[_msg(_t(language, "texts", "stopped"),
                                    [(_t(language, "options", f"restart_{state['flow']}"), restart)])], done=True)
    today = _today(now)
    if asking == SUMMARY:
        reply = _at_summary(session, conversation, state, text, now, probe)
    elif asking == CHANGE:
        path = _named_field(text, state)
        reply = _edit(state, path) if path else _change_list(state)
    elif asking in (LEVEL, MORE):
        reply = _languages_step(state, text, today)
    else:
        reply = _answer(state, str(asking), text, today)
    if not reply.done and not probe:
        _save(conversation, state)
    return reply


def _answer(state: dict[str, Any], path: str, text: str, today: date) -> Reply:
    field = _field(state["flow"], path)
    language = state["language"]
    if field.kind == "languages":
        return _languages_step(state, text, today)
    try:
        value = _read(field, text, state, today)
        trial = copy.deepcopy(state)
        trial["answers"][path] = value
        code = _api_verdict(trial, path, today)
        if code is not None:
            raise _Wrong(_error_code(field, code))
    except _Wrong as wrong:
        return _ask(state, path, [_msg(_t(language, "errors", wrong.code, **wrong.values))])
    state["answers"][path] = value
    _tidy(state, path)
    return _onwards(state)


def _error_code(field: Field, code: str) -> str:
    """The text for an error of the API's checks on this field."""
    if field.kind == "date" and code == "out_of_range":
        return "date_out_of_range"
    return code if code in texts("en")["errors"] else "invalid_choice"


def _tidy(state: dict[str, Any], path: str) -> None:
    """An answer that changes what else is asked: a permanent job has no months; fewer staff than
    affected asks the number affected again."""
    answers = state["answers"]
    if path == "job.permanent" and answers.get("job.permanent"):
        answers.pop("job.months", None)
    if path == "staff" and isinstance(answers.get("affected"), int) and answers["affected"] > answers["staff"]:
        answers.pop("affected")


def _onwards(state: dict[str, Any]) -> Reply:
    nxt = _next(state)
    if nxt == SUMMARY:
        return _summary(state)
    return _ask(state, nxt)


def _languages_step(state: dict[str, Any], text: str, today: date) -> Reply:
    """Languages one by one with buttons (language, level, another?) or all typed at once."""
    language, asking = state["language"], state["asking"]
    said = _norm(text)
    draft: list[dict[str, Any]] = state.setdefault("draft", [])
    try:
        if asking == "job.languages" and (said == "none" or _means(text, language, "none")):
            return _languages_done(state, [])
        if asking == LEVEL:
            level = _digits(text).strip().upper()
            if level not in LEVELS:  # "Finnish B1" typed at the level question
                try:
                    typed = read_languages(text, language)
                except _Wrong:
                    typed = []
                level = str(typed[0]["level"] or "") if typed and typed[0]["language"] == state["draft_pending"] else ""
                if level not in LEVELS:
                    raise _Wrong("missing_level")
            draft.append({"language": state.pop("draft_pending"), "level": level})
            return _ask(state, MORE)
        if asking == MORE:
            if said == "done" or _means(text, language, "done"):
                return _languages_done(state, draft)
            if said == "more" or _means(text, language, "more"):
                return _ask(state, "job.languages")
        pressed = text.strip()
        if pressed.startswith("lang:") and pressed[5:] in texts("en")["languages"]:
            items: list[dict[str, Any]] = [{"language": pressed[5:], "level": None}]
        else:
            items = read_languages(text, language)
        items = [i for i in items if all(d["language"] != i["language"] for d in draft)]
        complete = [i for i in items if i["level"] is not None]
        missing = [i for i in items if i["level"] is None]
        if len(missing) > 1 or (missing and complete):
            raise _Wrong("missing_level")
        draft += complete
        if missing:
            state["draft_pending"] = missing[0]["language"]
            return _ask(state, LEVEL)
        if not complete:
            return _ask(state, MORE)
        return _languages_done(state, draft) if len(items) > 1 else _ask(state, MORE)
    except _Wrong as wrong:
        return _ask(state, asking, [_msg(_t(language, "errors", wrong.code))])


def _languages_done(state: dict[str, Any], items: list[dict[str, Any]]) -> Reply:
    state["answers"]["job.languages"] = list(items)
    state.pop("draft", None)
    state.pop("draft_pending", None)
    return _onwards(state)


def _edit(state: dict[str, Any], path: str) -> Reply:
    """Ask one answer again; after it (and whatever it newly needs) comes the summary."""
    state["answers"].pop(path, None)
    if path == "job.languages":
        state.pop("draft", None)
        state.pop("draft_pending", None)
    if path == "job.permanent":
        state["answers"].pop("job.months", None)
    state["returning"] = True
    return _ask(state, path)


def _at_summary(session: Session | None, conversation: Any, state: dict[str, Any], text: str, now: datetime,
                probe: bool) -> Reply:
    language = state["language"]
    if _norm(text) == "send" or _means(text, language, "send"):
        return _submit(session, conversation, state, now, probe)
    if _wants_change(text, language):
        path = _named_field(text, state)
        return _edit(state, path) if path else _change_list(state)
    path = _named_field(text, state) if text.strip().lower().startswith("edit:") else None
    if path:
        return _edit(state, path)
    return _summary(state, [_msg(_t(language, "texts", "summary_not_understood"))])


def _submit(session: Session | None, conversation: Any, state: dict[str, Any], now: datetime, probe: bool) -> Reply:
    """Check the whole packet as the API does, then send it in the turn's transaction. An answer the
    API refuses (it may have changed since it was given, like a start date now past) is asked again."""
    flow, language = state["flow"], state["language"]
    try:
        body = CHECKS[flow](packet(state), today=_today(now))
    except employer.InvalidIntake as bad:
        paths = [f.path for f in FIELDS[flow] if f.needed(state["answers"])]
        for error in bad.errors:
            path = next((p for p in paths if error.field == p or error.field.startswith(p + ".")), None)
            if path is not None:
                _edit(state, path)
                return _ask(state, path, [_msg(_t(language, "texts", "not_sent")),
                                          _msg(_t(language, "errors", _error_code(_field(flow, path), error.code)))])
        log.warning("employer_flow.unmapped_errors flow=%s fields=%s", flow, ",".join(e.field for e in bad.errors))
        return _summary(state, [_msg(_t(language, "texts", "not_sent"))])
    if probe:
        return Reply(messages=[], done=True)
    assert session is not None
    conversation.guidance = None
    submitted = SUBMITS[flow](session, body, language=language, now=now, conversation_id=conversation.id,
                              channel=conversation.channel, commit=False)
    said = employer.result_messages(submitted, kind=flow, language=language)
    return Reply(messages=[_msg(text) for text in said], done=True,
                 ticket=TicketRef(id=submitted.ticket_id, queue=submitted.queue, status=submitted.status))


def topic_of(state: Any) -> str | None:
    """The hand-off topic while an intake runs (its queue: the employer advisory)."""
    flow = state.get("flow") if isinstance(state, dict) else None
    return {"assignment": "recruiting_help", "change_notice": "change_security"}.get(str(flow))


def would_finish(state: dict[str, Any], text: str, *, now: datetime) -> bool:
    """Whether `text` ends the flow (sent or stopped), worked out on a copy; nothing is written."""
    return turn(None, _Scratch(), copy.deepcopy(state), text, now=now, probe=True).done


class _Scratch:
    guidance: Any = None


def _save(conversation: Any, state: dict[str, Any]) -> None:
    # a deep copy: the JSON column notices a change only when the new value differs from the old
    conversation.guidance = copy.deepcopy(state)
