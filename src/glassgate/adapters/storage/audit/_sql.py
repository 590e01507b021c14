"""SQL shared by the SQLite and PostgreSQL audit stores (placeholders differ only)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Final

from glassgate.audit.chain import StoredRecord, check_columns
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import SEARCH_COLUMNS, AuditRecord, parse_record
from glassgate.errors import ChainBrokenError

__all__ = [
    "CHAIN_LOCK_KEY",
    "SELECT_CHECKPOINTS",
    "SELECT_HEAD",
    "checkpoint_row",
    "insert_checkpoint_sql",
    "insert_record_sql",
    "parse_rows",
    "record_row",
    "scan_sql",
    "search_sql",
    "stored_records",
]

# One 64-bit advisory lock id for "the audit chain" (PostgreSQL).
CHAIN_LOCK_KEY: Final = int.from_bytes(
    hashlib.sha256(b"glassgate.audit.chain").digest()[:8], "big", signed=True
)

_RECORD_COLUMNS = "seq, ts, type, outcome, subject, actor, route, request_id, hash, body"
# What is read back: the body and every copy kept beside it, so each copy can be checked.
_STORED_COLUMNS = "seq, body, hash, " + ", ".join(SEARCH_COLUMNS)
_CHECKPOINT_COLUMNS = "seq, head, ts, key_id, signature"

SELECT_HEAD: Final = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
SELECT_CHECKPOINTS: Final = f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq"  # noqa: S608


def insert_record_sql(ph: str) -> str:
    # Only constant column names and placeholders are interpolated; values are bound.
    values = ", ".join([ph] * 10)
    return f"INSERT INTO audit_records ({_RECORD_COLUMNS}) VALUES ({values})"  # noqa: S608


def insert_checkpoint_sql(ph: str) -> str:
    values = ", ".join([ph] * 5)
    return (
        f"INSERT INTO audit_checkpoints ({_CHECKPOINT_COLUMNS}) "  # noqa: S608
        f"VALUES ({values}) ON CONFLICT (seq) DO NOTHING"
    )


def scan_sql(ph: str) -> str:
    """Stored records after a ``seq``, in chain order, bound to ``(after, limit)``."""
    return (
        f"SELECT {_STORED_COLUMNS} FROM audit_records "  # noqa: S608
        f"WHERE seq > {ph} ORDER BY seq LIMIT {ph}"
    )


def stored_records(
    rows: Sequence[Sequence[object]], body_bytes: Callable[[object], bytes]
) -> list[StoredRecord]:
    """Rows of ``scan_sql`` or ``search_sql`` as ``StoredRecord``; ``body_bytes`` reads a body."""
    return [
        StoredRecord(body_bytes(row[1]), str(row[2]), int(str(row[0])), tuple(row[3:]))
        for row in rows
    ]


def record_row(record: AuditRecord) -> tuple[object, ...]:
    return (
        record.seq,
        record.ts,
        record.type,
        record.outcome,
        record.subject,
        record.actor,
        record.route,
        record.request_id,
        record.hash,
        record.body,
    )


def checkpoint_row(checkpoint: Checkpoint) -> tuple[object, ...]:
    return (
        checkpoint.seq,
        checkpoint.head,
        checkpoint.ts,
        checkpoint.key_id,
        checkpoint.signature,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_sql(query: AuditQuery, ph: str) -> tuple[str, list[object]]:
    """Stored records matching ``query`` (as ``scan_sql``); every value is a bound parameter."""
    clauses: list[str] = []
    params: list[object] = []
    for column, value, op in (
        ("ts", query.since, ">="),
        ("ts", query.until, "<"),
        ("subject", query.subject, "="),
        ("actor", query.actor, "="),
        ("route", query.route, "="),
        ("outcome", query.outcome, "="),
    ):
        if value is not None:
            clauses.append(f"{column} {op} {ph}")
            params.append(value)
    if query.type is not None:
        clauses.append(f"(type = {ph} OR type LIKE {ph} ESCAPE '\\')")
        params.extend([query.type, _escape_like(query.type) + ".%"])
    if query.after_seq:
        clauses.append(f"seq > {ph}")
        params.append(query.after_seq)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "ASC" if query.ascending else "DESC"
    params.append(query.limit)
    sql = f"SELECT {_STORED_COLUMNS} FROM audit_records{where} ORDER BY seq {order} LIMIT {ph}"  # noqa: S608
    return sql, params


def parse_rows(stored: Sequence[StoredRecord]) -> list[AuditRecord]:
    """Stored records back to records, refusing any that was tampered with.

    A search selects by the columns, so a record whose columns no longer
    agree with its body is refused (``column-edited``) rather than returned
    as a match for something its signed body does not say.
    """
    records: list[AuditRecord] = []
    for item in stored:
        try:
            record = parse_record(item.body)
        except ValueError as exc:
            raise ChainBrokenError(
                item.row or 0,
                "edited",
                f"stored record is unreadable ({exc}); run `glassgate audit verify`",
            ) from None
        check_columns(record, item)
        records.append(record)
    return records
