"""nlu/runtime.py: the Rasa side's logs keep event names, never the customer's words."""

from __future__ import annotations

import json
import logging

from nlu.runtime import rasa_argv, redact_message, redacting_factory


def test_structlog_lines_keep_only_names_levels_and_numbers() -> None:
    line = json.dumps({"event": "rest.message.received.timeout", "level": "error",
                       "text": "hetu 131052-308T", "parse_data": {"text": "x"}, "turns": 3, "ok": True})
    kept = json.loads(redact_message(line))
    assert kept == {"event": "rest.message.received.timeout", "level": "error", "turns": 3, "ok": True,
                    "redacted": ["parse_data", "text"]}
    assert "131052-308T" not in redact_message(line)


def test_plain_records_pass_and_broken_json_is_withheld() -> None:
    assert redact_message("Starting Rasa server on http://127.0.0.1:5005") == \
        "Starting Rasa server on http://127.0.0.1:5005"
    assert redact_message('{"event": "x", "text": "hetu 131052-308T"') == '{"event": "x", "text": "hetu 131052-308T"'
    assert redact_message('{"event": "x", text: 131052-308T}') == "[redacted]"
    assert redact_message('["131052-308T"]'.replace("[", "{", 1).replace("]", "}", 1)) == "[redacted]"


def test_every_record_of_the_process_is_redacted() -> None:
    previous = logging.getLogRecordFactory()
    try:
        logging.setLogRecordFactory(redacting_factory(previous))
        record = logging.getLogger("rasa.core.channels.rest").makeRecord(
            "rasa.core.channels.rest", logging.ERROR, __file__, 1,
            json.dumps({"event": "rest.message.received.failure", "text": "puhelin +358401234567"}), (), None)
        assert "+358401234567" not in record.getMessage()
    finally:
        logging.setLogRecordFactory(previous)


def test_the_secret_goes_to_the_server_only_inside_the_process() -> None:
    server = rasa_argv(["run", "--enable-api", "--port", "5005"], "s3cret")
    assert server[:2] == ["rasa", "run"] and server[-4:] == ["--jwt-secret", "s3cret", "--jwt-method", "HS256"]
    assert "s3cret" not in rasa_argv(["run", "actions", "--port", "5055"], "s3cret")
    assert rasa_argv(["run"], None) == ["rasa", "run"]
