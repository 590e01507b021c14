"""JSON log lines on stderr: one object per line, so a log shipper needs no parser rules.

Access lines are built as JSON by ``access_log`` and pass through unchanged
(marked with ``json_line``); every other record becomes
``{"time", "level", "logger", "message"[, "exc"]}``. The access logger keeps
INFO even when ``--log-level warning`` quietens the rest: whether access lines
are written is the config's ``observability.access_log``, not the log level.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["ACCESS_LOGGER", "JsonFormatter", "configure_logging", "iso_time"]

ACCESS_LOGGER = "glassgate.access"


def iso_time(seconds: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2025-01-31T12:00:00.123Z``."""
    text = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


class JsonFormatter(logging.Formatter):
    """Formats a record as one compact JSON object (non-ASCII escaped: no log injection)."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "json_line", False):
            return record.getMessage()
        line: dict[str, object] = {
            "time": iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


def configure_logging(level: str) -> None:
    """Send every log record to stderr as JSON; ``level`` applies to all but access lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore"):  # one INFO line per JWKS fetch is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
