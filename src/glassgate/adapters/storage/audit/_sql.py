"""SQL shared by the SQLite and PostgreSQL audit stores (placeholders differ only)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Final

from glassgate.audit.chain import StoredRecord, check_columns
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.query import AuditQuery
from glassgate.audit.records import SEARCH_COLUMNS, AuditRecord, EventType, parse_record
from glassgate.errors import ChainBrokenError

__all__ = [
    "CHAIN_LOCK_KEY",
    "PRIVILEGED_TYPE",
    "PRIVILEGED_TYPE_INDEX",
    "SELECT_HEAD",
    "checkpoint_row",
    "insert_checkpoint_sql",
    "insert_record_sql",
    "parse_rows",
    "prune_records",
    "read_checkpoints",
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

_PRUNE_COLUMNS = "seq, head, ts, key_id, signature, pruned_from, export_sha256"

# Migration 0007's partial index and its predicate, repeated word for word by a
# type search (SQLite matches a partial index's terms textually).
PRIVILEGED_TYPE_INDEX: Final = "ix_audit_records_privileged_type"
PRIVILEGED_TYPE: Final = f"type <> '{EventType.DECISION}'"

SELECT_HEAD: Final = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
SELECT_CHECKPOINTS: Final = f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq"  # noqa: S608
SELECT_PRUNES: Final = f"SELECT {_PRUNE_COLUMNS} FROM audit_prunes ORDER BY seq"  # noqa: S608


def insert_record_sql(ph: str) -> str:
    # Only constant column names and placeholders are interpolated; values are bound.
    values = ", ".join([ph] * 10)
    return f"INSERT INTO audit_records ({_RECORD_COLUMNS}) VALUES ({values})"  # noqa: S608


def insert_checkpoint_sql(ph: str, checkpoint: Checkpoint) -> str:
    """Keep ``checkpoint`` once: a prune checkpoint in ``audit_prunes``, any other one beside."""
    table, columns, count = (
        ("audit_prunes", _PRUNE_COLUMNS, 7)
        if checkpoint.is_prune
        else ("audit_checkpoints", _CHECKPOINT_COLUMNS, 5)
    )
    values = ", ".join([ph] * count)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT (seq) DO NOTHING"  # noqa: S608


def read_checkpoints(conn: Any) -> list[Checkpoint]:
    """Every checkpoint kept in the database, prune checkpoints included, by sequence number."""
    found = [
        Checkpoint(int(str(s)), str(h), str(t), str(k), str(g))
        for s, h, t, k, g in conn.execute(SELECT_CHECKPOINTS).fetchall()
    ]
    found.extend(
        Checkpoint(int(str(s)), str(h), str(t), str(k), str(g), int(str(f)), _text_or_none(d))
        for s, h, t, k, g, f, d in conn.execute(SELECT_PRUNES).fetchall()
    )
    return sorted(found, key=lambda item: (item.seq, item.is_prune))


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def prune_records(conn: Any, ph: str, checkpoint: Checkpoint) -> int:
    """Keep the prune checkpoint, then delete every record up to it; in the caller's transaction.

    Refuses to cut at the newest record (the chain continues from it) and at a
    record whose stored hash is not the one the checkpoint signs.
    """
    seq = checkpoint.seq
    row = conn.execute(SELECT_HEAD).fetchone()
    if row is None or seq >= int(str(row[0])):
        raise ValueError(f"record {seq} is the newest (or missing): the newest is never pruned")
    found = conn.execute(f"SELECT hash FROM audit_records WHERE seq = {ph}", (seq,)).fetchone()  # noqa: S608
    if found is not None and str(found[0]) != checkpoint.head:
        raise ChainBrokenError(
            seq, "edited", f"record {seq} no longer has the hash the prune checkpoint signs"
        )
    conn.execute(insert_checkpoint_sql(ph, checkpoint), checkpoint_row(checkpoint))
    deleted = conn.execute(f"DELETE FROM audit_records WHERE seq <= {ph}", (seq,))  # noqa: S608
    return int(deleted.rowcount)


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
    row = (checkpoint.seq, checkpoint.head, checkpoint.ts, checkpoint.key_id, checkpoint.signature)
    if checkpoint.is_prune:
        return (*row, checkpoint.pruned_from, checkpoint.export_sha256)
    return row


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_sql(query: AuditQuery, ph: str, *, sqlite: bool = False) -> tuple[str, list[object]]:
    """Stored records matching ``query`` (as ``scan_sql``); every value is a bound parameter.

    A search for a privileged type (anything but ``decision``) repeats the
    partial index's predicate, so it reads the few privileged records instead
    of scanning every decision (migration 0007). SQLite's planner, without
    ``ANALYZE`` statistics, would still prefer the table scan for its order:
    ``sqlite`` names the index for it.
    """
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
    table = "audit_records"
    if query.type is not None:
        clauses.append(f"(type = {ph} OR type LIKE {ph} ESCAPE '\\')")
        params.extend([query.type, _escape_like(query.type) + ".%"])
        if query.type != EventType.DECISION:
            clauses.append(PRIVILEGED_TYPE)
            if sqlite:
                table += f" INDEXED BY {PRIVILEGED_TYPE_INDEX}"
    if query.after_seq:
        clauses.append(f"seq > {ph}")
        params.append(query.after_seq)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "ASC" if query.ascending else "DESC"
    params.append(query.limit)
    sql = f"SELECT {_STORED_COLUMNS} FROM {table}{where} ORDER BY seq {order} LIMIT {ph}"  # noqa: S608
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
