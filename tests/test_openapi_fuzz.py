"""A property-based run over the hub's OpenAPI (schemathesis): however odd the request — valid or made
to break the schema, at the edges of every value, with an admin's bearer token or without —, the hub
never answers 5xx, and every status it answers is documented for that operation, so that a client
generated from the OpenAPI knows it.

Bounded and deterministic: per operation and caller, the first BOUNDARIES of schemathesis's coverage
cases and EXAMPLES generated requests per mode, derandomised, no example database. A failure is
recorded, not shrunk, and all of them are reported at the end with a curl command."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.models import Adviser
from bot.services import shifts
from bot.services.auth import do_issue_token
from bot.services.tickets import do_handoff
from tests import factories as f

EXAMPLES = 25  # generated requests per operation, mode and caller
BOUNDARIES = 40  # coverage cases per operation and caller; about 2,300 requests in all, ~25 s
CHECKS = [not_a_server_error, status_code_conformance]
CONFIG = schemathesis.Config.from_dict({"request-timeout": 10})  # a request that hangs fails the run
STREAMS = {"/api/chat/{conversation_id}/events": 0.2}  # read for this long, then cut: what came is kept
DESIGNED_5XX = {("GET /readyz", 503)}  # documented: not ready while Rasa is down, as in this run
Found = dict[str, str]


def _seed(app: FastAPI) -> str:
    """An admin and one queued ticket (its id)."""
    with app.state.sessionmaker() as session:
        f.adviser(session, "fuzz.admin", role="admin")
        conversation = f.conversation(session, "fuzz-1")
        return do_handoff(session, conversation_id=conversation.id, reason="asked_for_human", topic=None,
                          now=datetime.now(timezone.utc), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                          home_area="espoo", reopen_days=7).ticket.id


def _admin_token(app: FastAPI) -> str:
    """A fresh bearer token for each operation, as POST /api/auth/token issues it (that route is fuzzed
    too, and its throttle soon refuses this client): the run's own logout revokes the one it sends."""
    with app.state.sessionmaker() as session:
        admin = session.scalars(select(Adviser).where(Adviser.username == "fuzz.admin")).one()
        token, _ = do_issue_token(session, admin, kind="bearer", now=datetime.now(timezone.utc),
                                  lifetime=timedelta(hours=1))
        return token


def _send(operation: Any, case: schemathesis.Case, headers: dict[str, str], found: Found) -> None:
    """One request and its checks; a failure goes into `found`, keyed so that one cause is reported once."""
    try:
        response = case.call(headers=headers, **({"timeout": STREAMS[operation.path]}
                                                   if operation.path in STREAMS else {}))
    except Exception as exc:  # the app raised: its 500 handler answered, and the in-process client re-raises
        key = f"{operation.label} raised {type(exc).__name__}"
        found.setdefault(key, f"{key}: {str(exc)[:200]}\n  {case.as_curl_command(headers=headers)}")
        return
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            if (operation.label, response.status_code) in DESIGNED_5XX and "server" in failure.title.lower():
                continue
            key = f"{operation.label} {response.status_code} {failure.title}"
            found.setdefault(key, f"{key}\n  {case.as_curl_command(headers=headers)}\n  {response.content[:300]!r}")


def _generated(operation: Any, mode: GenerationMode, headers: dict[str, str], found: Found, **fixed: Any) -> None:
    """EXAMPLES generated requests of one mode (valid, or made to break the schema)."""

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def probe(case: schemathesis.Case) -> None:
        _send(operation, case, headers, found)

    try:
        probe()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # an operation without parameters has nothing to break


def _boundaries(schema: Any, operation: Any, headers: dict[str, str], found: Found) -> None:
    """Schemathesis's coverage cases: the edges of every value (the largest integers, empty and
    overlong strings, wrong types, missing fields), the first BOUNDARIES of them."""
    cases = schema.iter_coverage_cases(
        operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation))
    for case in itertools.islice(cases, BOUNDARIES):
        _send(operation, case, headers, found)


def fuzz(app: FastAPI, select: Callable[[Any], bool] = lambda operation: True) -> Found:
    """Every selected operation without a token and, where it takes one, with an admin's; for the
    ticket routes also the seeded ticket's id in the path (so that replies, transfers and closes run)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)  # the lifespan migrates
    try:
        ticket_id = _seed(app)
        found: Found = {}
        for operation in (result.ok() for result in schema.get_all_operations()):
            if not select(operation):
                continue
            callers: list[dict[str, str]] = [{}]
            if any(p.name.lower() == "authorization" for p in operation.headers):
                callers.append({"Authorization": f"Bearer {_admin_token(app)}"})
            for headers in callers:
                _boundaries(schema, operation, headers, found)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _generated(operation, mode, headers, found)
            if len(callers) > 1 and any(p.name == "ticket_id" for p in operation.path_parameters):
                _generated(operation, GenerationMode.POSITIVE, callers[1], found,
                           path_parameters={"ticket_id": ticket_id})
        return found
    finally:
        asgi.shutdown_lifespans()  # the app's shutdown (Rasa client, database engine) before tmp_path goes


def test_no_server_error_and_every_status_documented(settings: Settings) -> None:
    found = fuzz(create_app(settings))
    assert not found, f"{len(found)} problems:\n" + "\n".join(found.values())


def test_the_run_catches_an_undocumented_status(settings: Settings) -> None:
    """The run can fail: /api/chat without its documented 422 is caught."""
    app = create_app(settings)
    del app.openapi()["paths"]["/api/chat"]["post"]["responses"]["422"]  # app.openapi() is cached
    found = fuzz(app, select=lambda operation: operation.path == "/api/chat")
    assert any(key.startswith("POST /api/chat 422") for key in found), found
