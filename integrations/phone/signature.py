"""The provider's request signature (Twilio's scheme, shared by compatible providers).

X-Twilio-Signature = Base64(HMAC-SHA1(auth token, the full URL the provider requested + every POST
parameter's name and value, sorted by name, concatenated)). A request without it, or with one that
does not match (a forged or altered request), is refused with 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(f"{name}{value}" for name, value in sorted(params, key=lambda p: (p[0], p[1])))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def check_signature(auth_token: str | None, url: str, params: Iterable[tuple[str, str]], sent: str | None) -> bool:
    if not auth_token or not sent:
        return False
    return hmac.compare_digest(compute_signature(auth_token, url, params), sent)
