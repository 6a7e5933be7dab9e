"""Security headers on every response (one middleware instead of each page remembering them).

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` everywhere;
- no page of the hub may be framed by another site (`X-Frame-Options: DENY` and CSP
  `frame-ancestors 'none'`): the widget is embedded as a script, never in a frame;
- an HTML page without a policy of its own gets `PAGE_POLICY` (the web chat page, the widget
  demo, the docs); a page that sets one (the console, an attachment's sandbox) keeps it, with
  `frame-ancestors 'none'` added when it lacks it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# the web chat page and the widget: scripts and data from this origin only; the widget inserts its
# own <style> element (style-src 'unsafe-inline')
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# FastAPI's /docs page loads Swagger UI from a CDN: it keeps FastAPI's defaults but cannot be framed
DOCS_PATHS = ("/docs", "/redoc")


def with_frame_ancestors(policy: str) -> str:
    return policy if "frame-ancestors" in policy else f"{policy.rstrip('; ')}; frame-ancestors 'none'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path") or "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"same-origin"))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                if content_type.startswith(b"text/html"):
                    csp = next((v for k, v in headers if k.lower() == b"content-security-policy"), None)
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-security-policy"]
                    if csp is not None:
                        policy = with_frame_ancestors(csp.decode("latin-1"))
                    elif path.startswith(DOCS_PATHS):
                        policy = "frame-ancestors 'none'"
                    else:
                        policy = PAGE_POLICY
                    headers.append((b"content-security-policy", policy.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
