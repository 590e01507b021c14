"""JSON log lines on stderr: one object per line, so a log shipper needs no parser rules.

Access lines are built as JSON by ``access_log`` and pass through unchanged
(marked with ``json_line``); every other record becomes
``{"time", "level", "logger", "message"[, "exc"]}``. The access logger keeps
INFO even when ``--log-level warning`` quietens the rest: whether access lines
are written is the config's ``observability.access_log``, not the log level.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

__all__ = [
    "ACCESS_LOGGER",
    "BatchingStreamHandler",
    "JsonFormatter",
    "configure_logging",
    "iso_time",
]

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


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes INFO lines to the stream in batches; WARNING and above at once.

    Why: on this class of machine a ``write`` system call costs more than
    building the line, and the access log writes one line per request. Lines
    wait at most ``interval`` seconds (or until ``max_bytes`` are pending); a
    warning or error flushes everything before it, so order is kept.
    """

    def __init__(self, stream: TextIO, interval: float = 0.05, max_bytes: int = 64 * 1024) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._size = 0
        self._interval = interval
        self._max_bytes = max_bytes
        self._timer: asyncio.TimerHandle | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never break a request
            self.handleError(record)
            return
        self._pending.append(text)
        self._size += len(text) + 1
        if record.levelno >= logging.WARNING or self._size >= self._max_bytes:
            self.flush()
        elif self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (CLI, shutdown): write now
            self.flush()
            return
        self._timer = loop.call_later(self._interval, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            text = "\n".join(self._pending) + "\n"
            self._pending.clear()
            self._size = 0
            self.acquire()
            try:
                self.stream.write(text)
                self.stream.flush()
            finally:
                self.release()


def configure_logging(level: str) -> None:
    """Send every log record to stderr as JSON; ``level`` applies to all but access lines."""
    # No process, thread or multiprocessing fields are logged: skip reading them
    # (os.getpid() is a system call per record).
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore"):  # one INFO line per JWKS fetch is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
