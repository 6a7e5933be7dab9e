"""How the Rasa side runs: logs that never hold a customer's words, and no secret on a command line.

    python -m nlu.runtime run --enable-api --interface 127.0.0.1 --port 5005 --model …
    python -m nlu.runtime run actions --port 5055 --actions actions

is `rasa …` with two differences:

- Every log record of the process passes `redact_message` first. Rasa 3.6 logs through structlog
  as one JSON object per line, and some events carry the message itself (on a time-out Rasa's REST
  channel logs `rest.message.received.timeout` with the text at ERROR level; at debug level much
  more). Of a JSON record only the event name, the level and numbers or booleans are kept; plain
  records pass as they are (at INFO, Rasa's own plain records name models, actions and counts).
- The shared secret for Rasa's HTTP API is read from `LUOTSI_RASA_TOKEN` and handed to Rasa as its
  JWT secret inside the process, so it shows neither in `ps` nor in a URL: the hub signs a token
  with it and sends it as `Authorization: Bearer …` (bot/services/rasa.py).
- Rasa's telemetry and its error reports to Sentry are off (`RASA_TELEMETRY_ENABLED=false`).

Pure helpers first; the process wiring in `main`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Callable, List, Optional

SAFE_KEYS = frozenset({"event", "level", "log_level", "timestamp"})
REDACTED = "[redacted]"


def redact_message(message: str) -> str:
    """A structlog JSON line with only its event name, level and numeric or boolean fields."""
    stripped = message.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return message
    try:
        data = json.loads(stripped)
    except ValueError:
        return REDACTED
    if not isinstance(data, dict):
        return REDACTED
    kept = {k: v for k, v in data.items()
            if k in SAFE_KEYS or (isinstance(v, (int, float, bool)) and not isinstance(v, str))}
    if len(kept) < len(data):
        kept["redacted"] = sorted(k for k in data if k not in kept)
    return json.dumps(kept, ensure_ascii=False)


def redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log-record factory that redacts every record's message, whatever logger or handler."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str) and not record.args:
            record.msg = redact_message(record.msg)
        elif isinstance(record.msg, dict):  # structlog before rendering
            record.msg = redact_message(json.dumps(record.msg, default=str))
        return record

    return make


def rasa_argv(argv: List[str], secret: Optional[str]) -> List[str]:
    """Rasa's command line with the API secret added inside the process (the server only)."""
    out = ["rasa", *argv]
    if secret and argv[:1] == ["run"] and "actions" not in argv[1:2]:
        out += ["--jwt-secret", secret, "--jwt-method", "HS256"]
    return out


def main() -> None:
    # Rasa's telemetry and its exception reports to Sentry stay off, whatever a global config says:
    # a stack trace from a customer's turn must not leave the city's servers.
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    logging.setLogRecordFactory(redacting_factory(logging.getLogRecordFactory()))
    secret = os.environ.get("LUOTSI_RASA_TOKEN") or None
    sys.argv = rasa_argv(sys.argv[1:], secret)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
