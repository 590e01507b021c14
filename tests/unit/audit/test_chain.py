"""Every kind of tampering is detected, named, and located (SPEC C8)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.audit.chain import GENESIS, ChainHead, StoredRecord, check_columns, link, verify
from glassgate.audit.checkpoints import Checkpoint, key_id, sign_checkpoint
from glassgate.audit.records import SEARCH_COLUMNS, AuditRecord, canonical_json
from glassgate.errors import ChainBrokenError
from tests.support.audit import checkpoint_at, event, make_chain, stored

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
N = 10


def _edit(record: AuditRecord, *, rehash: bool, **changes: object) -> StoredRecord:
    fields = json.loads(record.body)
    fields.update(changes)
    body = canonical_json(fields)
    return StoredRecord(body, hashlib.sha256(body).hexdigest() if rehash else record.hash)


def _relink_from(records: list[AuditRecord], index: int) -> list[AuditRecord]:
    """What an attacker with the database does: edit one record, re-link everything after it."""
    edited = [*records[:index], *records[index:]]
    head = ChainHead(records[index - 1].seq, records[index - 1].hash) if index else GENESIS
    events = [event(i, subject="mallory") if i == index else event(i) for i in range(index, N)]
    return edited[:index] + link(head, events)


Tamper = Callable[[list[AuditRecord]], list[StoredRecord]]

CASES: list[tuple[str, Tamper, int, str]] = [
    (
        "edit-field-hash-column-unchanged",
        lambda r: [*stored(r[:4]), _edit(r[4], rehash=False, outcome="allow"), *stored(r[5:])],
        5,
        "edited",
    ),
    (
        "edit-field-hash-column-recomputed",
        lambda r: [*stored(r[:4]), _edit(r[4], rehash=True, subject="mallory"), *stored(r[5:])],
        5,
        "edited",
    ),
    (
        "edit-prev-link",
        lambda r: [*stored(r[:4]), _edit(r[4], rehash=True, prev="ab" * 32), *stored(r[5:])],
        5,
        "edited",
    ),
    (
        "edit-first-record",
        lambda r: [_edit(r[0], rehash=True, subject="mallory"), *stored(r[1:])],
        1,
        "edited",
    ),
    (
        "cut-record-bytes",
        lambda r: [*stored(r[:2]), StoredRecord(r[2].body[:40]), *stored(r[3:])],
        3,
        "edited",
    ),
    ("delete-middle-record", lambda r: stored(r[:4] + r[5:]), 5, "deleted"),
    ("delete-several-middle-records", lambda r: stored(r[:2] + r[6:]), 3, "deleted"),
    ("delete-first-record", lambda r: stored(r[1:]), 1, "deleted"),
    ("swap-two-records", lambda r: stored([*r[:3], r[4], r[3], *r[5:]]), 4, "reordered"),
    ("move-record-later", lambda r: stored([*r[:2], *r[3:7], r[2], *r[7:]]), 3, "reordered"),
    ("move-record-earlier", lambda r: stored([r[0], r[6], *r[1:6], *r[7:]]), 2, "reordered"),
    (
        "insert-forged-record-with-valid-link",
        lambda r: stored([*r[:5], link(ChainHead(5, r[4].hash), [event(99)])[0], *r[5:]]),
        6,
        "inserted",
    ),
    (
        "insert-forged-record-with-bad-link",
        lambda r: stored([*r[:5], link(ChainHead(5, "cd" * 32), [event(99)])[0], *r[5:]]),
        6,
        "inserted",
    ),
    (
        "insert-copy-of-earlier-record",
        lambda r: stored([*r[:6], r[2], *r[6:]]),
        3,
        "inserted",
    ),
]


@pytest.mark.parametrize(
    ("tamper", "index", "kind"),
    [pytest.param(t, i, k, id=f"case={name}") for name, t, i, k in CASES],
)
def test_tampering_is_detected_and_located(tamper: Tamper, index: int, kind: str) -> None:
    records = make_chain(N)
    with pytest.raises(ChainBrokenError) as caught:
        verify(tamper(records))
    assert (caught.value.index, caught.value.kind) == (index, kind), str(caught.value)
    assert caught.value.code == "chain_broken"


def test_intact_chain_verifies_with_report() -> None:
    records = make_chain(N)
    checkpoints = [checkpoint_at(records[4], KEY), checkpoint_at(records[9], KEY)]
    report = verify(stored(records), checkpoints, KEYS)
    assert report.records == N
    assert report.head == ChainHead(N, records[-1].hash)
    assert (report.checkpoints, report.latest_checkpoint) == (2, N)


def test_empty_log_verifies() -> None:
    assert verify([]).head == GENESIS


def test_deleted_tail_is_truncation_when_a_checkpoint_covers_it() -> None:
    records = make_chain(N)
    checkpoints = [checkpoint_at(records[9], KEY)]
    with pytest.raises(ChainBrokenError) as caught:
        verify(stored(records[:7]), checkpoints, KEYS)
    assert (caught.value.index, caught.value.kind) == (8, "truncated")


def test_deleted_tail_after_the_last_checkpoint_is_not_detectable() -> None:
    """The documented limit: records after the last checkpoint have only the chain."""
    records = make_chain(N)
    report = verify(stored(records[:8]), [checkpoint_at(records[4], KEY)], KEYS)
    assert report.head.seq == 8


def test_log_truncated_to_nothing_is_detected() -> None:
    records = make_chain(N)
    with pytest.raises(ChainBrokenError) as caught:
        verify([], [checkpoint_at(records[2], KEY)], KEYS)
    assert (caught.value.index, caught.value.kind) == (1, "truncated")


def test_edited_tail_record_is_caught_by_its_checkpoint() -> None:
    records = make_chain(N)
    tampered = [*stored(records[:9]), _edit(records[9], rehash=True, outcome="deny")]
    with pytest.raises(ChainBrokenError) as caught:
        verify(tampered, [checkpoint_at(records[9], KEY)], KEYS)
    assert (caught.value.index, caught.value.kind) == (10, "edited")


def test_chain_rewritten_after_an_edit_is_caught_by_the_next_checkpoint() -> None:
    records = make_chain(N)
    rewritten = _relink_from(records, 3)
    verify(stored(rewritten))  # the chain alone looks fine: the attacker re-linked it
    checkpoints = [checkpoint_at(records[1], KEY), checkpoint_at(records[7], KEY)]
    with pytest.raises(ChainBrokenError) as caught:
        verify(stored(rewritten), checkpoints, KEYS)
    assert (caught.value.index, caught.value.kind) == (8, "edited")
    assert "between records 3 and 8" in str(caught.value)


def _flip_signature(checkpoint: Checkpoint) -> Checkpoint:
    head = "A" if checkpoint.signature[0] != "A" else "B"
    return replace(checkpoint, signature=head + checkpoint.signature[1:])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_flip_signature, id="case=bit-flipped-signature"),
        pytest.param(lambda c: replace(c, seq=c.seq + 5), id="case=moved-to-later-seq"),
        pytest.param(lambda c: replace(c, head="ee" * 32), id="case=head-replaced"),
        pytest.param(lambda c: replace(c, signature="!!"), id="case=signature-not-base64"),
        pytest.param(
            lambda c: checkpoint_at_seq(c.seq, Ed25519PrivateKey.generate(), c.key_id),
            id="case=signed-by-another-key-claiming-ours",
        ),
    ],
)
def test_forged_checkpoint_is_detected(forge: Callable[[Checkpoint], Checkpoint]) -> None:
    records = make_chain(N)
    forged = forge(checkpoint_at(records[4], KEY))
    with pytest.raises(ChainBrokenError) as caught:
        verify(stored(records), [forged], KEYS)
    assert caught.value.kind == "forged-checkpoint"
    assert caught.value.index == forged.seq


def checkpoint_at_seq(seq: int, key: Ed25519PrivateKey, claimed_key_id: str) -> Checkpoint:
    genuine = checkpoint_at(make_chain(seq)[-1], key)
    return replace(genuine, key_id=claimed_key_id)


def test_checkpoint_from_an_untrusted_key_is_a_forgery() -> None:
    records = make_chain(N)
    other = checkpoint_at(records[4], Ed25519PrivateKey.generate())
    with pytest.raises(ChainBrokenError, match="unknown key") as caught:
        verify(stored(records), [other], KEYS)
    assert caught.value.kind == "forged-checkpoint"


def test_rotated_keys_are_all_trusted() -> None:
    records = make_chain(N)
    old, new = Ed25519PrivateKey.generate(), KEY
    keys = {key_id(k.public_key()): k.public_key() for k in (old, new)}
    checkpoints = [checkpoint_at(records[3], old), checkpoint_at(records[8], new)]
    assert verify(stored(records), checkpoints, keys).checkpoints == 2


def test_duplicate_checkpoints_from_two_places_count_once() -> None:
    records = make_chain(N)
    checkpoint = checkpoint_at(records[4], KEY)
    assert verify(stored(records), [checkpoint, checkpoint], KEYS).checkpoints == 1


def test_verify_streams_without_stored_hashes() -> None:
    records = make_chain(N)
    generator = (StoredRecord(record.body) for record in records)
    assert verify(generator).records == N


# --- the searchable columns stored beside the body (issue 11 audit 1) --------------------------


def _with_columns(record: AuditRecord, row: int | None = None, **changes: object) -> StoredRecord:
    """``record`` as a SQL store reads it back, with some stored columns changed."""
    fields = json.loads(record.body)
    values = tuple(changes.get(name, fields[name]) for name in SEARCH_COLUMNS)
    return StoredRecord(record.body, record.hash, record.seq if row is None else row, values)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("subject", "mallory"),
        ("subject", None),
        ("type", "config.reload"),
        ("outcome", "allow"),
        ("actor", "ops"),
        ("route", "admin"),
        ("request_id", "req-x"),
        ("ts", "2001-01-01T00:00:00.000000Z"),
        ("subject", 7),
    ],
)
def test_an_edited_column_is_detected_and_named(column: str, value: object) -> None:
    records = make_chain(N)
    tampered = [
        _with_columns(r, **{column: value}) if r.seq == 5 else _with_columns(r) for r in records
    ]
    with pytest.raises(ChainBrokenError) as info:
        verify(tampered)
    assert (info.value.index, info.value.kind) == (5, "column-edited")
    assert f"column '{column}'" in str(info.value)


def test_an_edited_sequence_column_is_detected() -> None:
    records = make_chain(N)
    tampered = [_with_columns(r, row=99) if r.seq == N else _with_columns(r) for r in records]
    with pytest.raises(ChainBrokenError) as info:
        verify(tampered)
    assert (info.value.index, info.value.kind) == (N, "column-edited")
    assert "column 'seq'" in str(info.value)


def test_columns_that_agree_with_the_body_verify() -> None:
    records = make_chain(N)
    assert verify([_with_columns(r) for r in records]).records == N


def test_check_columns_shows_a_bounded_escaped_value() -> None:
    record = make_chain(1)[0]
    with pytest.raises(ChainBrokenError) as info:
        check_columns(record, _with_columns(record, subject="x\n" * 500))
    message = str(info.value)
    assert "\n" not in message
    assert len(message) < 400


# --- retention: a signed prune checkpoint lets the log start later (issue 11 audit 4) -----------


def _prune_at(records: list[AuditRecord], first: int, last: int) -> Checkpoint:
    return sign_checkpoint(
        last,
        records[last - 1].hash,
        1_790_100_000.0,
        KEY,
        pruned_from=first,
        export_sha256="0" * 64,
    )


def test_a_pruned_log_verifies_and_says_how_far() -> None:
    records = make_chain(N)
    prune = _prune_at(records, 1, 4)
    report = verify(stored(records[4:]), [prune, checkpoint_at(records[-1], KEY)], KEYS)
    assert (report.records, report.pruned_to, report.head.seq) == (N - 4, 4, N)


def test_records_missing_without_a_prune_checkpoint_are_deleted() -> None:
    records = make_chain(N)
    with pytest.raises(ChainBrokenError) as info:
        verify(stored(records[4:]), [checkpoint_at(records[-1], KEY)], KEYS)
    assert (info.value.index, info.value.kind) == (1, "deleted")


def test_a_prune_does_not_excuse_records_missing_above_it() -> None:
    records = make_chain(N)
    prune = _prune_at(records, 1, 4)
    with pytest.raises(ChainBrokenError) as info:
        verify(stored(records[6:]), [prune], KEYS)
    assert (info.value.index, info.value.kind) == (5, "deleted")  # 5..6: 1..4 were pruned


def test_a_prune_checkpoint_must_match_the_record_it_cut_at() -> None:
    records = make_chain(N)
    wrong = sign_checkpoint(4, "ab" * 32, 1_790_100_000.0, KEY, pruned_from=1)
    with pytest.raises(ChainBrokenError) as info:
        verify(stored(records[4:]), [wrong], KEYS)
    assert (info.value.index, info.value.kind) == (5, "edited")


def test_a_forged_prune_checkpoint_is_refused() -> None:
    records = make_chain(N)
    forged = sign_checkpoint(
        4, records[3].hash, 1_790_100_000.0, Ed25519PrivateKey.generate(), pruned_from=1
    )
    with pytest.raises(ChainBrokenError) as info:
        verify(stored(records[4:]), [forged], KEYS)
    assert info.value.kind == "forged-checkpoint"


def test_records_left_below_a_prune_point_still_verify() -> None:
    # The prune checkpoint was kept, but the records were not deleted (yet).
    records = make_chain(N)
    report = verify(stored(records), [_prune_at(records, 1, 4)], KEYS)
    assert (report.records, report.pruned_to) == (N, None)


def test_two_prunes_the_log_starts_after_the_newest() -> None:
    records = make_chain(N)
    prunes = [_prune_at(records, 1, 3), _prune_at(records, 4, 6)]
    assert verify(stored(records[6:]), prunes, KEYS).pruned_to == 6
    assert verify(stored(records[3:]), prunes, KEYS).pruned_to == 3


def test_a_log_cut_to_nothing_after_a_prune_is_truncated() -> None:
    records = make_chain(N)
    with pytest.raises(ChainBrokenError) as info:
        verify([], [_prune_at(records, 1, 4), checkpoint_at(records[-1], KEY)], KEYS)
    assert info.value.kind == "truncated"


def test_checkpoints_that_disagree_about_the_prune_point_are_refused() -> None:
    records = make_chain(N)
    other = sign_checkpoint(4, "cd" * 32, 1_790_000_500.0, KEY)
    with pytest.raises(ChainBrokenError) as info:
        verify(stored(records[4:]), [_prune_at(records, 1, 4), other], KEYS)
    assert (info.value.index, info.value.kind) == (4, "edited")
