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
from typing import TextIO

from glassgate.timestamps import utc_parts

__all__ = [
    "ACCESS_LOGGER",
    "BatchingStreamHandler",
    "JsonFormatter",
    "configure_logging",
    "emit_access_line",
    "iso_time",
]

ACCESS_LOGGER = "glassgate.access"


def iso_time(seconds: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2025-01-31T12:00:00.123Z`` (truncated, as
    ``datetime.isoformat(timespec="milliseconds")`` does)."""
    second, micros = utc_parts(seconds)
    return f"{second}.{micros // 1000:03d}Z"


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

    def write_line(self, text: str) -> None:
        """Queue a finished INFO line (an access line): what ``emit`` does after formatting."""
        self._pending.append(text)
        self._size += len(text) + 1
        if self._size >= self._max_bytes:
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


_ACCESS = logging.getLogger(ACCESS_LOGGER)
_ROOT = logging.getLogger()
# The handler configure_logging installed: access lines go straight into its batch.
_HANDLER: list[BatchingStreamHandler | None] = [None]


def emit_access_line(line: str) -> None:
    """Write one access line (``access_log.access_line``), as ``logger.info`` would.

    A ``LogRecord`` per request (caller lookup, thread and time fields) costs
    more than the line itself, and the line needs none of it. While the
    logging set-up is the one ``configure_logging`` made (the root handler
    alone, nothing on the access logger), the line goes straight into that
    handler's batch; otherwise (tests capturing logs, an embedding application
    with its own handlers) through the logger, unchanged.
    """
    handler = _HANDLER[0]
    handlers = _ROOT.handlers
    if (
        handler is not None
        and len(handlers) == 1
        and handlers[0] is handler
        and not _ACCESS.handlers
        and not _ACCESS.filters
        and not handler.filters
        and _ACCESS.propagate
    ):
        if _ACCESS.isEnabledFor(logging.INFO):
            handler.write_line(line)
        return
    _ACCESS.info(line, extra={"json_line": True})


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
    _HANDLER[0] = handler
    root.setLevel(level.upper())
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore"):  # one INFO line per JWKS fetch is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
