"""adapters.observability.log_format: every record one JSON line; access lines pass through."""

from __future__ import annotations

import json
import logging
import sys

from glassgate.adapters.observability.log_format import JsonFormatter, iso_time


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("glassgate", logging.ERROR, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_record_becomes_one_json_object() -> None:
    line = JsonFormatter().format(_record("reload refused: %s", 'bad "x"\nsecond line'))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "error"
    assert parsed["logger"] == "glassgate"
    assert parsed["message"] == 'reload refused: bad "x"\nsecond line'
    assert parsed["time"].endswith("Z")


def test_exceptions_are_kept_in_one_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    parsed = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in parsed["exc"]


def test_access_lines_pass_through_unchanged() -> None:
    assert JsonFormatter().format(_record('{"a":1}', json_line=True)) == '{"a":1}'


def test_iso_time() -> None:
    assert iso_time(0.5) == "1970-01-01T00:00:00.500Z"
