"""The hash chain: each record commits to the SHA-256 of the one before it.

``link`` places events after a head; ``verify`` walks stored records and the
signed checkpoints and raises ``ChainBrokenError(index, kind)`` at the first
break. ``index`` is the sequence number of the first broken (or missing)
record; ``kind`` names what happened:

- ``edited``            a record's bytes no longer match its hash or its successor's link
- ``column-edited``     a column stored beside the body for search (``subject``, ``ts``, the
                        sequence number, ...) no longer says what the hashed body says
- ``deleted``           records are missing from the start or the middle
- ``reordered``         a record appears out of its place
- ``inserted``          a record that the chain never contained (a duplicate sequence number)
- ``truncated``         records are missing at the end: a signed checkpoint covers more
- ``forged-checkpoint`` a checkpoint whose signature does not verify under a trusted key

Without checkpoints, a deleted tail cannot be told apart from a shorter log:
that is why checkpoints also live outside the database.

A log may start after record 1 only where a signed *prune* checkpoint says it
was cut on purpose (``audit prune``): the first record present must then be
N+1 and link to the hash the prune checkpoint gives for N. The report says
"pruned up to N"; anything else missing at the start is ``deleted``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from glassgate.audit.checkpoints import Checkpoint, verify_checkpoint
from glassgate.audit.records import (
    GENESIS_HASH,
    SEARCH_COLUMNS,
    AuditEvent,
    AuditRecord,
    parse_record,
)
from glassgate.errors import ChainBrokenError

__all__ = [
    "GENESIS",
    "ChainHead",
    "ChainReport",
    "StoredRecord",
    "check_columns",
    "link",
    "verify",
]

EDITED = "edited"
DELETED = "deleted"
REORDERED = "reordered"
INSERTED = "inserted"
TRUNCATED = "truncated"
FORGED = "forged-checkpoint"
COLUMN_EDITED = "column-edited"
_SHOWN_CHARS = 60


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last record of a chain: its sequence number and hash."""

    seq: int
    hash: str


GENESIS = ChainHead(0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as read back: its bytes, and what a store keeps beside them.

    ``stored_hash`` is the hash column, ``row`` the storage's ordering key
    (the ``seq`` column) and ``columns`` the ``SEARCH_COLUMNS`` values, in
    that order. All are copies that an attacker could edit apart from the
    body, so each one given is checked against the body; ``None`` means the
    store keeps no such copy.
    """

    body: bytes
    stored_hash: str | None = None
    row: int | None = None
    columns: tuple[object, ...] | None = None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def check_columns(record: AuditRecord, stored: StoredRecord) -> None:
    """Raise ``column-edited`` unless every copy stored beside the body agrees with it.

    ``audit search`` filters on these columns, so a column changed after the
    fact would make a search return a record whose signed body names someone
    else: the column and both values are named.
    """
    if stored.row is not None and stored.row != record.seq:
        raise _column_edited(record.seq, "seq", stored.row, record.seq)
    if stored.columns is None:
        return
    for name, value in zip(SEARCH_COLUMNS, stored.columns, strict=True):
        expected = getattr(record, name)
        if type(value) is not type(expected) or value != expected:
            raise _column_edited(record.seq, name, value, expected)


def _column_edited(seq: int, name: str, stored: object, expected: object) -> ChainBrokenError:
    return ChainBrokenError(
        seq,
        COLUMN_EDITED,
        f"record {seq}: the stored column '{name}' holds {_shown(stored)} but the hashed "
        f"body says {_shown(expected)}; the column was changed after the record was written",
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What an intact chain looked like."""

    records: int
    head: ChainHead
    checkpoints: int
    latest_checkpoint: int | None
    pruned_to: int | None = None  # the log starts after this record, by a signed prune


def link(head: ChainHead, events: Sequence[AuditEvent]) -> list[AuditRecord]:
    """Chain ``events`` after ``head``, in order. Pure: storage calls it under its lock."""
    records: list[AuditRecord] = []
    seq, prev = head.seq, head.hash
    for event in events:
        seq += 1
        record = AuditRecord.build(seq, prev, event)
        records.append(record)
        prev = record.hash
    return records


class _Walker:
    """Reads records one by one, with look-ahead for diagnosing a break."""

    def __init__(self, records: Iterable[StoredRecord]) -> None:
        self._source: Iterator[StoredRecord] = iter(records)
        self._peeked: list[StoredRecord] = []

    def next(self) -> StoredRecord | None:
        if self._peeked:
            return self._peeked.pop(0)
        return next(self._source, None)

    def peek(self) -> StoredRecord | None:
        if not self._peeked:
            item = next(self._source, None)
            if item is None:
                return None
            self._peeked.append(item)
        return self._peeked[0]

    def rest(self) -> Iterator[StoredRecord]:
        yield from self._peeked
        self._peeked = []
        yield from self._source


def _seq_of(stored: StoredRecord) -> int | None:
    try:
        return parse_record(stored.body).seq
    except ValueError:
        return None


def _parse(stored: StoredRecord, expected: int) -> AuditRecord:
    try:
        record = parse_record(stored.body)
    except ValueError as exc:
        raise ChainBrokenError(expected, EDITED, f"record is unreadable: {exc}") from None
    if stored.stored_hash is not None and stored.stored_hash != record.hash:
        raise ChainBrokenError(
            record.seq if record.seq == expected else expected,
            EDITED,
            "the record's bytes do not match the hash stored with it",
        )
    return record


def _out_of_place(record: AuditRecord, expected: int, walker: _Walker) -> ChainBrokenError:
    """``record`` claims a sequence number other than the one due here."""
    if record.seq < expected:
        return ChainBrokenError(
            record.seq,
            INSERTED,
            f"sequence number {record.seq} appears a second time (at position {expected}); "
            "one of the two records was inserted",
        )
    if any(_seq_of(item) == expected for item in walker.rest()):
        return ChainBrokenError(
            expected, REORDERED, f"record {expected} appears later in the log, after {record.seq}"
        )
    missing = f"{expected}" if record.seq == expected + 1 else f"{expected}..{record.seq - 1}"
    return ChainBrokenError(expected, DELETED, f"record(s) {missing} are missing")


def _broken_link(record: AuditRecord, prev: AuditRecord | None, walker: _Walker) -> None:
    """``record`` is in its place but does not commit to its predecessor: say why."""
    after = walker.peek()
    after_record = None
    if after is not None:
        try:
            after_record = parse_record(after.body)
        except ValueError:
            after_record = None
    if after_record is not None and after_record.seq == record.seq:
        raise ChainBrokenError(
            record.seq,
            INSERTED,
            f"sequence number {record.seq} appears twice; one of the two records was inserted",
        )
    if prev is None:
        raise ChainBrokenError(record.seq, EDITED, "the first record does not start the chain")
    successor_ok = after_record is None or after_record.prev == record.hash
    if successor_ok:
        raise ChainBrokenError(
            prev.seq, EDITED, f"record {prev.seq} was changed after record {record.seq} linked it"
        )
    raise ChainBrokenError(record.seq, EDITED, "the record's link to its predecessor was changed")


def _start(walker: _Walker, prunes: Mapping[int, Checkpoint]) -> ChainHead:
    """Where the walk starts: the genesis, or the newest prune point below the first record.

    Records missing between that prune point and the first record present are
    then reported as deleted from the prune point on, not from record 1.
    """
    first = walker.peek()
    seq = _seq_of(first) if first is not None else None
    below = [point for point in prunes if seq is not None and point < seq]
    if not below:
        return GENESIS
    prune = prunes[max(below)]
    return ChainHead(prune.seq, prune.head)


def _walk(
    records: Iterable[StoredRecord],
    anchors: Mapping[int, list[Checkpoint]],
    prunes: Mapping[int, Checkpoint],
) -> tuple[int, ChainHead, int | None]:
    walker = _Walker(records)
    head = _start(walker, prunes)
    pruned_to = head.seq or None
    for checkpoint in anchors.get(head.seq, ()) if pruned_to else ():
        if checkpoint.head != head.hash:  # the records are gone: the statements must agree
            raise ChainBrokenError(
                head.seq, EDITED, f"signed checkpoints disagree about record {head.seq}"
            )
    prev, last_anchor, count = None, head.seq, 0
    while (stored := walker.next()) is not None:
        expected = head.seq + 1
        record = _parse(stored, expected)
        if record.seq != expected:
            raise _out_of_place(record, expected, walker)
        if record.prev != head.hash:
            _broken_link(record, prev, walker)
        check_columns(record, stored)
        for checkpoint in anchors.get(record.seq, ()):
            if checkpoint.head != record.hash:
                raise ChainBrokenError(
                    record.seq,
                    EDITED,
                    f"record {record.seq} differs from the signed checkpoint of {checkpoint.ts}: "
                    f"the chain was rewritten between records {last_anchor + 1} and {record.seq}",
                )
            last_anchor = record.seq
        head, prev, count = ChainHead(record.seq, record.hash), record, count + 1
    return count, head, pruned_to


def verify(
    records: Iterable[StoredRecord],
    checkpoints: Iterable[Checkpoint] = (),
    keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> ChainReport:
    """Check the chain and every checkpoint; raise ``ChainBrokenError`` at the first break.

    ``records`` must come in storage order (ascending sequence numbers as
    stored). ``keys`` maps key ids to trusted public keys; checkpoints are
    required to verify under one of them.
    """
    anchors: dict[int, list[Checkpoint]] = {}
    prunes: dict[int, Checkpoint] = {}
    trusted = keys or {}
    for checkpoint in sorted(set(checkpoints), key=lambda item: item.seq):
        verify_checkpoint(checkpoint, trusted)
        anchors.setdefault(checkpoint.seq, []).append(checkpoint)
        if checkpoint.is_prune:
            prunes[checkpoint.seq] = checkpoint
    count, head, pruned_to = _walk(records, anchors, prunes)
    latest = max(anchors, default=None)
    if latest is not None and latest > head.seq:
        raise ChainBrokenError(
            head.seq + 1,
            TRUNCATED,
            f"the log ends at record {head.seq} but a signed checkpoint covers record {latest}: "
            "records at the end were deleted",
        )
    return ChainReport(
        records=count,
        head=head,
        checkpoints=sum(len(items) for items in anchors.values()),
        latest_checkpoint=latest,
        pruned_to=pruned_to,
    )
