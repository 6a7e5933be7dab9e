"""The two guided conversations: language self-assessment and service-need mapping.

Rasa starts them (intents `language_assessment`, `service_needs`, `request_callback`) and runs them
as a form; its actions return "start" or "answer" in Rasa's response and the hub's turn
(bot/services/conversations.py) carries that out here. Before Rasa is asked, `would_finish` tells
whether the customer's words end the flow, so the form ends in the same turn without a call-back.
The state lives on the conversation, so any channel, any hub process and a restarted Rasa continue
where the customer is.
Questions and answers are in the customer's language (bot/locales/guidance/<lang>.yml); answers may
be buttons or typed ("yes", "kyllä", "نعم", "haa", a number in any digits) in any tier-1 language.
The results are stored with the conversation and go into the hand-off packet of its ticket.
Employers' intakes (a recruitment assignment, a change-security notice: intents
`recruitment_assignment`, `change_notice`) run through the same form; bot/services/employer_flow.py
asks their questions and sends them as a ticket.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.locales import fill, render
from bot.messages import Button, OutboundMessage, TicketRef
from bot.models import Conversation, Ticket
from bot.services import assessment, employer_flow, service_needs, shifts
from bot.services.callbacks import (
    DEFAULT_WINDOWS,
    WINDOW_NAMES,
    BadNumber,
    Windows,
    check_phone_number,
    do_request_callback,
    parse_windows,
    spoken_date,
    window_values,
)
from bot.services.guidance_texts import explain_needs, guidance
from bot.services.tickets import handoff_packet
from nlu import langid

FLOWS = ("assessment", "needs", "callback", *employer_flow.FLOWS)
ASK_ORDER = ("age", "municipality", "registered_jobseeker", "unemployed_months", "goal", "education",
             "foreign_language_speaker", "years_since_first_residence_permit", "finnish_level", "dismissed",
             "years_with_employer")
EMPLOYER_ORDER = ("employer_goal", "company_size", "dismissals_planned", "hiree.age", "hiree.municipality",
                  "hiree.unemployed_months", "hiree.education", "hiree.foreign_language_speaker",
                  "hiree.years_since_first_residence_permit")
NUMBER_FIELDS = {"age", "unemployed_months", "years_since_first_residence_permit", "years_with_employer",
                 "company_size", "dismissals_planned"}
YES_NO_FIELDS = {"registered_jobseeker", "foreign_language_speaker", "dismissed"}
HANDOFF_BUTTON = "/request_human"
SKIP = "skip"


@dataclass(frozen=True)
class Step:
    messages: list[OutboundMessage]
    done: bool
    ticket: TicketRef | None = None  # the ticket the step made (an employer's intake sent)


_FINISHED = Step(messages=[], done=True)  # what a probe learns when the answer ends the flow


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = re.sub(r"[\u064b-\u0652\u0640]", "", text)  # Arabic diacritics and tatweel
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return re.sub(r"[\s.!?,;:()«»\"'’`]+", " ", text).strip()


def _choice(text: str, language: str, kinds: tuple[str, ...]) -> str | None:
    """Which of `kinds` ("yes", "no", "stop", "skip") the customer's words mean: the conversation's
    language first, then every other tier-1 language; a payload token means itself."""
    said = _norm(text)
    if said in kinds:
        return said
    order = [language] + [lang for lang in langid.TIER1 if lang != language]
    for lang in order:
        words = _answer_words(lang)
        for kind in kinds:
            if said in words.get(kind, ()):
                return kind
    return None


@lru_cache(maxsize=16)
def _answer_words(language: str) -> dict[str, frozenset[str]]:
    """A language's typed answers, normalised once: yes, no, stop, and skip (its button title)."""
    cat = guidance(language)
    words = {kind: frozenset(_norm(w) for w in values) for kind, values in cat["answers"].items()}
    words[SKIP] = words.get(SKIP, frozenset()) | {_norm(cat["texts"]["needs_skip"])}
    return words


def _number(text: str) -> float | None:
    """The first number in the text, in any script's digits ("٣", "3,5", "about 40")."""
    digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in unicodedata.normalize("NFKC", text))
    found = re.search(r"\d+(?:[.,]\d+)?", digits)
    return float(found.group().replace(",", ".")) if found else None


def _text(lang: str, key: str, **values: Any) -> str:
    return fill(str(guidance(lang)["texts"].get(key) or guidance("en")["texts"][key]), values)


def _msg(text: str, buttons: list[tuple[str, str]] | None = None) -> OutboundMessage:
    return OutboundMessage(text=text, buttons=tuple(Button(title=t, payload=p) for t, p in buttons or []))


# --- language self-assessment -----------------------------------------------------------------

def _target_in(text: str, language: str) -> str | None:
    """"test my Finnish", "mikä on ruotsin tasoni": the language to assess when the words name it."""
    said = _norm(text)
    for lang in dict.fromkeys([language, "en", "fi"]):
        for code, name in guidance(lang)["targets"].items():
            stem = _norm(str(name)).split()[0][:5]
            if len(stem) >= 4 and stem in said:
                return str(code)
    for code, words in (("fi", ("suomi", "suome", "finsk", "finni", "finn", "фин", "فنلند", "finish")),
                        ("sv", ("ruots", "swedi", "svensk", "швед", "سويد", "iswiidh")),
                        ("en", ("engl", "англ", "انجليز", "ingiriis"))):
        if any(w in said for w in words):
            return code
    return None


def _question(state: dict[str, Any], language: str) -> OutboundMessage | None:
    if not state.get("target"):
        cat = guidance(language)
        return _msg(_text(language, "assess_choose_target"), [(str(cat["targets"][c]), c) for c in assessment.TARGETS])
    answers = [assessment.Answer(*a) for a in state["answers"]]
    nxt = assessment.next_question(answers)
    if nxt is None:
        return None
    skill, level = nxt
    cat = guidance(language)
    text = _text(language, "assess_question", number=len(answers) + 1, total=assessment.MAX_QUESTIONS,
                 language=cat["targets"][state["target"]], skill=cat["skills"][skill],
                 statement=cat["statements"][skill][level])
    return _msg(text, [(_text(language, "assess_yes"), "yes"), (_text(language, "assess_no"), "no"),
                       (_text(language, "assess_stop"), "stop")])


def assessment_messages(result: assessment.Result, language: str, asked: set[str]) -> list[OutboundMessage]:
    cat = guidance(language)
    name = cat["targets"][result.target]
    lines = [_text(language, "assess_result_header", language=name)]
    for skill in assessment.SKILLS:
        level = result.skills[skill]
        label = cat["skills"][skill]
        if level is None or skill not in asked:
            lines.append(_text(language, "assess_result_partial", skill=label))
        elif level == assessment.BELOW_A1:
            lines.append(_text(language, "assess_result_below_a1", skill=label))
        else:
            lines.append(_text(language, "assess_result_line", skill=label, level=level, yki=result.yki[skill]))
    if result.overall in assessment.LEVELS:
        lines.append(_text(language, f"assess_level_{result.overall}"))
    notes = []
    if result.target == "en":
        notes.append(_text(language, "assess_citizenship_target_en"))
    else:
        notes.append(_text(language, "assess_citizenship_yes" if result.citizenship_level else "assess_citizenship_no"))
    notes.append(_text(language, "assess_integration_note"))
    shown = {s: (result.skills[s] if result.skills[s] not in (None, assessment.BELOW_A1) else "–")
             for s in assessment.SKILLS}
    cv = _text(language, "assess_cv_intro") + "\n" + _text(language, "assess_cv_line", language=name, **shown)
    return [_msg("\n".join(lines)), _msg("\n".join(notes)), _msg(cv),
            _msg(_text(language, "assess_not_certificate") + "\n" + _text(language, "assess_adviser_offer"),
                 [(_text(language, "needs_adviser_button"), HANDOFF_BUTTON)])]


def _assessment_turn(session: Session, conversation: Conversation, state: dict[str, Any], text: str | None,
                     language: str, now: datetime, probe: bool = False) -> Step:
    out: list[OutboundMessage] = []
    if text is not None:
        if not state.get("target"):
            code = _norm(text) if _norm(text) in assessment.TARGETS else _target_in(text, language)
            if code is None:
                if _choice(text, language, ("stop",)):
                    return _FINISHED if probe else _finish_assessment(session, conversation, state, language, now,
                                                                      stopped=True)
                out.append(_msg(_text(language, "assess_not_understood")))
            else:
                state["target"] = code
        else:
            kind = _choice(text, language, ("yes", "no", "stop"))
            if kind == "stop":
                return _FINISHED if probe else _finish_assessment(session, conversation, state, language, now,
                                                                  stopped=True)
            if kind is None:
                out.append(_msg(_text(language, "assess_not_understood")))
            else:
                answers = [assessment.Answer(*a) for a in state["answers"]]
                skill, level = assessment.next_question(answers) or ("", "")
                state["answers"].append([skill, level, kind == "yes"])
    question = _question(state, language)
    if question is None:
        return _FINISHED if probe else _finish_assessment(session, conversation, state, language, now, stopped=False)
    _save(conversation, state)
    return Step(messages=[*out, question], done=False)


def _finish_assessment(session: Session, conversation: Conversation, state: dict[str, Any], language: str,
                       now: datetime, *, stopped: bool) -> Step:
    conversation.guidance = None
    out: list[OutboundMessage] = []
    if stopped:
        out.append(_msg(_text(language, "assess_stopped"), [(_text(language, "assess_restart"), "/language_assessment")]))
    if state.get("target") and state["answers"]:
        answers = [assessment.Answer(*a) for a in state["answers"]]
        result = assessment.score(state["target"], answers)
        asked = {a.skill for a in answers}
        record = {**result.as_dict(), "complete": not stopped, "answers": len(answers), "at": now.isoformat()}
        conversation.assessment = record
        _copy_to_open_ticket(session, conversation)
        out += assessment_messages(result, language, asked)
    return Step(messages=out, done=True)


# --- service-need mapping ---------------------------------------------------------------------

def _ask_next(state: dict[str, Any]) -> str | None:
    profile = state["profile"]
    if "role" not in profile:
        return None if "role" in state["asked"] else "role"
    result = service_needs.do_map(profile)
    order = ASK_ORDER if profile["role"] == "jobseeker" else EMPLOYER_ORDER
    for name in order:
        if name in result.missing and name not in state["asked"]:
            return name
    return None


def _field_question(name: str, language: str) -> OutboundMessage:
    key = name.replace(".", "_")
    question = guidance(language)["questions"].get(key) or guidance("en")["questions"][key]
    buttons = [(str(title), str(code)) for code, title in (question.get("options") or {}).items()]
    if name != "role":
        buttons.append((_text(language, "needs_skip"), SKIP))
    return _msg(str(question["text"]), buttons)


def _parse_field(name: str, text: str, language: str) -> tuple[bool, Any]:
    """(understood, value); value None means skipped."""
    if _choice(text, language, (SKIP,)):
        return True, None
    if _is_number(name):
        number = _number(text)
        if number is None:
            return False, None
        return True, number if "years_since" in name else int(number)
    key = name.replace(".", "_")
    options = (guidance(language)["questions"].get(key) or guidance("en")["questions"][key]).get("options") or {}
    said = _norm(text)
    for code in options:
        if said == _norm(str(code)):
            return True, _option_value(name, str(code))
    for lang in dict.fromkeys([language, "en"]):
        lang_options = (guidance(lang)["questions"].get(key) or {}).get("options") or {}
        for code, title in lang_options.items():
            if said and (said == _norm(str(title)) or (len(said) >= 3 and said in _norm(str(title)))):
                return True, _option_value(name, str(code))
    base = name.split(".")[-1]
    if base in YES_NO_FIELDS:
        kind = _choice(text, language, ("yes", "no"))
        if kind:
            return True, kind == "yes"
    return False, None


def _is_number(name: str) -> bool:
    return name.split(".")[-1] in NUMBER_FIELDS


def _option_value(name: str, code: str) -> Any:
    if name.split(".")[-1] in YES_NO_FIELDS:
        return code == "yes"
    return code


def _needs_turn(session: Session, conversation: Conversation, state: dict[str, Any], text: str | None,
                language: str, now: datetime, probe: bool = False) -> Step:
    out: list[OutboundMessage] = []
    asking = state.get("asking")
    if text is not None and asking:
        if _choice(text, language, ("stop",)):
            return _FINISHED if probe else _finish_needs(session, conversation, state, language, now)
        understood, value = _parse_field(asking, text, language)
        if not understood:
            key = "needs_number_not_understood" if _is_number(asking) else "needs_not_understood"
            _save(conversation, state)
            return Step(messages=[_msg(_text(language, key)), _field_question(asking, language)], done=False)
        state["asked"].append(asking)
        if value is not None:
            _set(state["profile"], asking, value)
    nxt = _ask_next(state)
    if nxt is None:
        return _FINISHED if probe else _finish_needs(session, conversation, state, language, now)
    state["asking"] = nxt
    _save(conversation, state)
    return Step(messages=[*out, _field_question(nxt, language)], done=False)


def _set(profile: dict[str, Any], name: str, value: Any) -> None:
    if "." in name:
        outer, inner = name.split(".", 1)
        profile.setdefault(outer, {})[inner] = value
    else:
        profile[name] = value


def needs_messages(profile: dict[str, Any], language: str) -> tuple[list[OutboundMessage], dict[str, Any]]:
    result, explained = explain_needs(profile, language)
    cat = guidance(language)
    if explained:
        blocks = [_text(language, "needs_result_header")]
        for code, why, _rule in explained:
            service = cat["services"][code]
            blocks.append(f"• {service['name']}\n{service['what']} {why}\n→ {service['next']} {service['page']}")
        messages = [_msg("\n\n".join(blocks))]
    else:
        messages = [_msg(_text(language, "needs_result_none"))]
    open_fields = list(dict.fromkeys(m.split(".")[0] for m in result.missing))
    notes = []
    if open_fields:
        names = ", ".join(_text(language, f"field_{f}") for f in open_fields if f"field_{f}" in cat["texts"])
        if names:
            notes.append(_text(language, "needs_missing", fields=names))
    notes.append(_text(language, "needs_uncertain"))
    buttons = [(_text(language, "needs_adviser_button"), HANDOFF_BUTTON)]
    if result.adviser_needed or not result.services:
        notes.append(_text(language, "needs_adviser_offer"))
    messages.append(_msg("\n".join(notes), buttons))
    record = {"profile": profile, "services": [{"code": c, "why": w, "rule": r} for c, w, r in result.services],
              "adviser_needed": result.adviser_needed, "missing": open_fields,
              "rules_version": service_needs.load_rules().version}
    return messages, record


def _finish_needs(session: Session, conversation: Conversation, state: dict[str, Any], language: str,
                  now: datetime) -> Step:
    conversation.guidance = None
    messages, record = needs_messages(state["profile"], language)
    conversation.service_needs = {**record, "at": now.isoformat()}
    _copy_to_open_ticket(session, conversation)
    return Step(messages=messages, done=True)


def _known_profile(conversation: Conversation, role_hint: str | None) -> dict[str, Any]:
    """What the conversation already tells, so it is not asked again."""
    profile: dict[str, Any] = {}
    if role_hint in ("jobseeker", "employer"):
        profile["role"] = role_hint
    language = conversation.language or ""
    if role_hint != "employer" and language in langid.TIER1 and language not in ("fi", "sv", "en"):
        profile["foreign_language_speaker"] = True  # writes to us in Arabic, Somali, Russian…
    result = conversation.assessment or {}
    if result.get("target") == "fi" and result.get("overall"):
        overall = result["overall"]
        profile["finnish_level"] = "none" if overall == assessment.BELOW_A1 else overall
    return profile


# --- "call me back" from the chat or Telegram ------------------------------------------------

def _callback_turn(session: Session, conversation: Conversation, state: dict[str, Any], text: str | None,
                   language: str, now: datetime, context: GuidanceContext, probe: bool = False) -> Step:
    """The number (checked, E.164), then the time window; then the callback ticket."""
    if text is not None and _choice(text, language, ("stop",)):
        conversation.guidance = None
        return Step(messages=[render("utter_goodbye", language)], done=True)
    asking = state.get("asking")
    if asking == "number" and text is not None:
        try:
            state["phone"] = check_phone_number(text)
        except BadNumber:
            _save(conversation, state)
            return Step(messages=[render("sys_callback_invalid_number", language)], done=False)
    elif asking == "window" and text is not None:
        window = window_of(text, language)
        if window is not None:
            if probe:
                return _FINISHED
            conversation.guidance = None
            callback = do_request_callback(
                session, conversation_id=conversation.id, phone=state["phone"], window=window,
                topic=state.get("topic"), now=now, hours=context.hours, home_area=context.home_area,
                reopen_days=context.reopen_days, windows=context.windows)
            return Step(messages=[callback_confirmation(language, state["phone"], callback.due, window,
                                                        context.windows)], done=True)
    state["asking"] = "number" if state.get("phone") is None else "window"
    _save(conversation, state)
    if state["asking"] == "number":
        return Step(messages=[render("sys_callback_ask_number", language)], done=False)
    return Step(messages=[_ask_window(language, context.windows)], done=False)


def callback_confirmation(language: str, number: str, due: datetime, window: str, windows: Windows) -> OutboundMessage:
    """"An adviser will call you at <number> on <date> in the <window>, between <start> and <end>"."""
    hours = window_values(windows)
    return render("sys_callback_confirmed", language, number=number, date=spoken_date(due),
                  window=render(f"sys_callback_window_{window}", language).text,
                  start=hours[f"{window}_start"], end=hours[f"{window}_end"])


def _ask_window(language: str, windows: Windows) -> OutboundMessage:
    """"When should we call you?" with the configured hours in the text and on the buttons."""
    values = window_values(windows)
    asked = render("sys_callback_ask_window", language, **values)
    return OutboundMessage(text=asked.text, buttons=tuple(Button(title=fill(b.title, values), payload=b.payload)
                                                          for b in asked.buttons))


# How people name the two parts of the day when they type instead of pressing a button ("aamupäivällä",
# "på eftermiddagen", "после обеда", "galabta"): word beginnings, matched after folding.
WINDOW_WORDS: dict[str, tuple[str, ...]] = {
    "morning": ("aamu", "ennen puolta", "förmiddag", "formiddag", "morgon", "morning", "before noon", "hommik",
                "ennelõuna", "утр", "до обеда", "ранк", "ранок", "вранці", "зранку", "до обіду", "صباح", "الصباح", "بالصباح", "الصبح",
                "قبل الظهر", "subax"),
    "afternoon": ("iltapäiv", "iltapaiv", "eftermiddag", "afternoon", "after noon", "pärastlõuna", "parastlouna",
                  "днём", "днем", "после обеда", "вдень", "після обіду", "по обіді", "بعد الظهر", "العصر", "مساء",
                  "galab", "duhur"),
}
# each window's words as one pattern, normalised like the answer it is matched against
_WINDOW_PATTERNS = {window: re.compile("|".join(r"(?<!\w)" + re.escape(_norm(word)) for word in words))
                    for window, words in WINDOW_WORDS.items()}


def window_of(text: str, language: str) -> str | None:
    """The call-back window a typed answer names (button payload, a word for the part of the day,
    or the button's title), or None when it names neither or both."""
    said = _norm(text)
    if said in WINDOW_NAMES:
        return said
    named = {window for window, pattern in _WINDOW_PATTERNS.items() if pattern.search(said)}
    if len(named) == 1:
        return named.pop()
    for lang in dict.fromkeys([language, "en"]):
        for button in render("sys_callback_ask_window", lang).buttons:
            title = _norm(fill(button.title, {name: "" for name in WINDOW_NAMES}))  # the words, not the hours
            if button.payload in WINDOW_NAMES and len(said) >= 3 and said in title:
                return button.payload
    return None


# --- entry points -----------------------------------------------------------------------------

def _save(conversation: Conversation, state: dict[str, Any]) -> None:
    # a deep copy: the JSON column notices a change only when the new value differs from the old
    conversation.guidance = copy.deepcopy(state)


def _copy_to_open_ticket(session: Session, conversation: Conversation) -> None:
    ticket = session.scalars(select(Ticket).where(Ticket.conversation_id == conversation.id,
                                                  Ticket.status.in_(("queued", "claimed")))).first()
    if ticket is not None:
        ticket.assessment = handoff_packet(conversation)


@dataclass(frozen=True)
class GuidanceContext:
    """What the desk's decisions need from the settings: opening hours, home area, reopening, and
    the callback windows."""

    hours: shifts.OpeningHours
    home_area: str
    reopen_days: int
    windows: Windows = field(default_factory=lambda: parse_windows(DEFAULT_WINDOWS))

    @classmethod
    def from_settings(cls, settings: Any) -> GuidanceContext:
        return cls(hours=shifts.OpeningHours.parse(settings.opening_hours), home_area=settings.home_area,
                   reopen_days=settings.reopen_days, windows=parse_windows(settings.callback_windows))


def _language(conversation: Conversation) -> str:
    return conversation.language if conversation.language in langid.TIER1 else "en"


class _Scratch:
    """Stands in for the conversation while a probe advances a copy of its state."""

    guidance: Any = None


def would_finish(conversation: Conversation, text: str, *, now: datetime, context: GuidanceContext) -> bool:
    """Whether `text`, taken as the answer to the flow in progress, ends it (completes or stops it).

    Pure: a copy of the state is advanced and nothing is written. The hub sends the outcome to
    Rasa with the message, so the form ends in the same turn as the flow."""
    state = copy.deepcopy(conversation.guidance or {})
    language = _language(conversation)
    scratch: Any = _Scratch()
    flow = state.get("flow")
    if flow == "assessment":
        return _assessment_turn(None, scratch, state, text, language, now, probe=True).done  # type: ignore[arg-type]
    if flow == "needs":
        return _needs_turn(None, scratch, state, text, language, now, probe=True).done  # type: ignore[arg-type]
    if flow == "callback":
        return _callback_turn(None, scratch, state, text, language, now, context,  # type: ignore[arg-type]
                              probe=True).done
    if flow in employer_flow.FLOWS:
        return employer_flow.would_finish(state, text, now=now)
    return True  # nothing in progress


def _employer_step(reply: employer_flow.Reply) -> Step:
    return Step(messages=reply.messages, done=reply.done, ticket=reply.ticket)


def do_guidance_turn(session: Session, conversation_id: str, *, now: datetime, context: GuidanceContext,
                     text: str | None = None, start: str | None = None, role_hint: str | None = None,
                     topic: str | None = None, commit: bool = True) -> Step:
    """Start a flow (`start`) or take the customer's answer (`text`); commits unless told not to."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    language = _language(conversation)
    if start is not None:
        if start not in FLOWS:
            raise ValueError(start)
        if start == "assessment":
            state: dict[str, Any] = {"flow": "assessment", "target": _target_in(text or "", language), "answers": []}
            step = _assessment_turn(session, conversation, state, None, language, now)
            step = Step(messages=[_msg(_text(language, "assess_intro")), *step.messages], done=step.done)
        elif start == "needs":
            state = {"flow": "needs", "profile": _known_profile(conversation, role_hint), "asked": [], "asking": None}
            step = _needs_turn(session, conversation, state, None, language, now)
            step = Step(messages=[_msg(_text(language, "needs_intro")), *step.messages], done=step.done)
        elif start in employer_flow.FLOWS:
            step = _employer_step(employer_flow.start(conversation, start, language))
        else:
            state = {"flow": "callback", "phone": None, "topic": topic}
            step = _callback_turn(session, conversation, state, None, language, now, context)
    else:
        state = copy.deepcopy(conversation.guidance or {})  # edited here, saved as a new value
        if state.get("flow") == "assessment":
            step = _assessment_turn(session, conversation, state, text or "", language, now)
        elif state.get("flow") == "needs":
            step = _needs_turn(session, conversation, state, text or "", language, now)
        elif state.get("flow") == "callback":
            step = _callback_turn(session, conversation, state, text or "", language, now, context)
        elif state.get("flow") in employer_flow.FLOWS:
            step = _employer_step(employer_flow.turn(session, conversation, state, text or "", now=now))
        else:
            step = Step(messages=[], done=True)  # nothing in progress (it ended elsewhere)
    if commit:
        session.commit()
    return step
