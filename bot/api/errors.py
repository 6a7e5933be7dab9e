"""Every error leaves as `{"error": {"code", "message"}}` with a fitting status, never a bare 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import BadInput, NotFound
from bot.locales import render
from bot.schemas.common import ErrorPublic
from bot.services.tickets import TicketError
from nlu import langid

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


async def _locale_of(request: Request) -> str | None:
    """The locale a bad request asked for, if its body can tell (for a localised message)."""
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RuntimeError):  # RuntimeError: stream already consumed
        return None
    if isinstance(body, dict) and isinstance(body.get("locale"), str):
        return langid.normalise_hint(body["locale"])
    if isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"].strip():
        found = langid.detect(body["text"][:500]).language  # the language the customer wrote in
        return found if found in langid.TIER1 else None
    return None


def install_error_handlers(app: FastAPI) -> None:
    document_errors(app)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return error_response(exc.status, exc.code, render(exc.key, exc.language).text)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, exc.code, str(exc))

    @app.exception_handler(TicketError)
    async def _ticket(request: Request, exc: TicketError) -> JSONResponse:
        return error_response(exc.status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        language = await _locale_of(request)
        if first.get("type") == "json_invalid":
            return error_response(400, "invalid_json", render("sys_error_invalid", language).text)
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        kind = first.get("type", "invalid")
        code = "missing_field" if kind == "missing" else "invalid_field"
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
        message = render("sys_error_invalid", language).text
        return error_response(422, code, f"{message} ({detail})")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}
        response = error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DisconnectionError)
    @app.exception_handler(PoolTimeout)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database cannot be reached (down, restarting, fail-over) or every connection is taken:
        # nothing was stored, so nothing is acknowledged. 503 with a hint when to retry; the chat
        # says it in the customer's language. Logged without the statement or its parameters.
        log.error("request.database_unavailable path=%s error=%s", request.url.path, type(exc).__name__)
        response = error_response(503, "database_unavailable",
                                  render("sys_error_not_saved", await _locale_of(request)).text)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StatementError)
    @app.exception_handler(UnicodeEncodeError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        refused = unstorable_text(exc)
        if refused is None:
            raise exc  # a bug, not the client's text: on to the 500 below
        # Input that no check caught and the database refused: the request's session is rolled back,
        # nothing was kept. The client's fault, so a 422; logged without the text or the statement.
        log.warning("request.unstorable_text path=%s code=%s", request.url.path, refused)
        return error_response(422, refused, render("sys_error_invalid", await _locale_of(request)).text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed path=%s error=%s", request.url.path, type(exc).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side.")


def unstorable_text(exc: BaseException) -> str | None:
    """The error code when `exc` is the database refusing a text: a lone surrogate (it cannot be
    encoded as UTF-8) or NUL (PostgreSQL's text cannot hold it). Anything else is None: a bug stays a 500."""
    cause = exc.orig if isinstance(exc, StatementError) else exc
    if isinstance(cause, UnicodeEncodeError) and "surrogates not allowed" in str(cause):
        return "invalid_characters"
    if type(cause).__name__ == "DataError" and "NUL (0x00)" in str(cause):
        return "control_characters"
    return None


# What the shared layers answer, whatever the route: the handlers above and bot.api.limits.BodyLimit.
COMMON_ERRORS = {
    400: "the body is not valid JSON",
    401: "no valid bearer token (missing, unknown, expired or revoked)",
    413: "the request body is too large",
    422: "a parameter or the body is not valid (the message names it)",
}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI state, beside what each route declares, the errors that every route can get
    from the shared layers, as `ErrorPublic`: 413 for a request with a body, 400 for a JSON body that
    does not parse, 422 for input that does not validate, 401 where a bearer token is required (the
    operation takes the `authorization` header of `bot.api.deps.bearer_token`). A client generated from
    the OpenAPI then knows every status it may get; tests/test_openapi_fuzz.py checks that the app
    answers no other. Lazy: the routes are read when the OpenAPI is first asked for."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_common_errors(original())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def add_common_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorPublic", error_schema)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            for status in _common_statuses(method.upper(), operation):
                operation.setdefault("responses", {}).setdefault(
                    str(status), {"description": COMMON_ERRORS[status], "content": content})


def _common_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    statuses = []
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        statuses.append(400)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "authorization" for p in parameters):
        statuses.append(401)
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        statuses.append(413)
    if method in ("POST", "PUT", "PATCH") or parameters or "requestBody" in operation:
        statuses.append(422)
    return statuses
