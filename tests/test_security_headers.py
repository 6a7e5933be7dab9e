"""bot/api/headers.py: no page of the hub can be framed; every response says nosniff; pages have a CSP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_web_chat_page_has_a_policy_and_cannot_be_framed(client: TestClient) -> None:
    for path in ("/", "/widget-demo"):
        r = client.get(path)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "default-src 'self'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_the_console_keeps_its_policy_and_gains_frame_ancestors(client: TestClient) -> None:
    r = client.get("/console/login")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'") and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"


def test_api_answers_say_nosniff_and_docs_cannot_be_framed(client: TestClient) -> None:
    r = client.post("/api/language/detect", json={"text": "hei"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in r.headers  # JSON, not a page
    docs = client.get("/docs")
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
