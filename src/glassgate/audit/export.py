"""Formatting records for a SIEM: JSON lines and syslog (pure; the sinks are adapters).

- JSON lines: one record's canonical bytes per line, so an export can be
  re-hashed and verified line by line.
- RFC 5424 syslog: ``<PRI>1 TIMESTAMP HOST glassgate - MSGID [SD] BOM MSG``,
  where MSGID is the event type, the structured data carries the fields a SIEM
  filters on (SD-ID ``glassgate@32473``, the RFC 5612 documentation enterprise
  number), and MSG is the canonical JSON record.
- RFC 6587 octet counting (``LEN SP MSG``) frames messages on a TCP stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.records import AuditRecord, EventType

__all__ = [
    "FACILITY_AUTHPRIV",
    "checkpoint_to_rfc5424",
    "frame_octet_counted",
    "rfc5424_message",
    "severity_of",
    "to_jsonl",
    "to_rfc5424",
]

FACILITY_AUTHPRIV: Final = 10
SD_ID: Final = "glassgate@32473"
APP_NAME: Final = "glassgate"
BOM: Final = b"\xef\xbb\xbf"

ALERT, WARNING, NOTICE, INFO = 1, 4, 5, 6
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_DENIED_OUTCOMES = frozenset({"deny", "unauthenticated", "rate-limited", "refused", "failed"})
_NOTICE_OUTCOMES = frozenset({"step-up"})


def to_jsonl(records: Iterable[AuditRecord]) -> bytes:
    """JSON lines: each record's canonical bytes followed by a newline."""
    return b"".join(record.body + b"\n" for record in records)


def severity_of(record: AuditRecord) -> int:
    """Break-glass is an alert, a refusal a warning, a step-up or privileged event a notice."""
    if record.type.split(".", 1)[0] == EventType.BREAKGLASS_PREFIX:
        return ALERT
    if record.outcome in _DENIED_OUTCOMES:
        return WARNING
    return NOTICE if record.privileged or record.outcome in _NOTICE_OUTCOMES else INFO


def _header_token(value: str, limit: int) -> str:
    cleaned = _NOT_PRINTABLE.sub("", value)[:limit]
    return cleaned or "-"


def _sd_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def rfc5424_message(
    prival: int, ts: str, hostname: str, msgid: str, params: dict[str, object], msg: bytes
) -> bytes:
    """``<PRI>1 TS HOST glassgate - MSGID [SD] BOM MSG``; ``None`` params are left out."""
    sd_params = " ".join(
        f'{name}="{_sd_value(value)}"' for name, value in params.items() if value is not None
    )
    header = (
        f"<{prival}>1 {ts} {_header_token(hostname, 255)} {APP_NAME} - "
        f"{_header_token(msgid, 32)} [{SD_ID} {sd_params}] "
    )
    return header.encode("utf-8") + BOM + msg


def to_rfc5424(record: AuditRecord, *, hostname: str, facility: int = FACILITY_AUTHPRIV) -> bytes:
    """One RFC 5424 message for ``record``."""
    if not 0 <= facility <= 23:
        raise ValueError("syslog facility must be between 0 and 23")
    params: dict[str, object] = {
        "seq": record.seq,
        "outcome": record.outcome,
        "subject": record.subject,
        "actor": record.actor,
        "route": record.route,
        "privileged": "true" if record.privileged else "false",
        "hash": record.hash,
    }
    prival = facility * 8 + severity_of(record)
    return rfc5424_message(prival, record.ts, hostname, record.type, params, record.body)


def checkpoint_to_rfc5424(
    checkpoint: Checkpoint, *, hostname: str, facility: int = FACILITY_AUTHPRIV
) -> bytes:
    """A checkpoint as a syslog message (MSGID ``checkpoint``), for off-host retention."""
    params: dict[str, object] = {
        "seq": checkpoint.seq,
        "head": checkpoint.head,
        "key_id": checkpoint.key_id,
    }
    prival = facility * 8 + NOTICE
    return rfc5424_message(
        prival, checkpoint.ts, hostname, "checkpoint", params, checkpoint.to_json()
    )


def frame_octet_counted(message: bytes) -> bytes:
    """RFC 6587 section 3.4.1: ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(message)).encode("ascii") + b" " + message
