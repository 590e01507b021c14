from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.audit.checkpoints import (
    Checkpoint,
    CheckpointSchedule,
    check_signing_key,
    key_id,
    sign_checkpoint,
    verify_checkpoint,
)
from glassgate.errors import ChainBrokenError, CheckpointKeyError
from tests.support.audit import T0

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
HEAD = "ab" * 32


def test_signed_checkpoint_verifies_and_round_trips_as_json() -> None:
    checkpoint = sign_checkpoint(42, HEAD, T0, KEY)
    verify_checkpoint(checkpoint, KEYS)
    assert checkpoint.ts == "2026-09-21T14:13:20.000000Z"
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    assert b'"sig":' in checkpoint.to_json()
    assert b'"sig":' not in checkpoint.payload()


def test_key_id_is_short_and_stable() -> None:
    public = KEY.public_key()
    assert key_id(public) == key_id(public)
    assert len(key_id(public)) == 16
    assert key_id(Ed25519PrivateKey.generate().public_key()) != key_id(public)


@pytest.mark.parametrize("field", ["seq", "head", "ts"])
def test_any_signed_field_change_is_a_forgery(field: str) -> None:
    checkpoint = sign_checkpoint(42, HEAD, T0, KEY)
    forged = {
        "seq": replace(checkpoint, seq=43),
        "head": replace(checkpoint, head="cd" * 32),
        "ts": replace(checkpoint, ts="2027-01-01T00:00:00.000000Z"),
    }[field]
    with pytest.raises(ChainBrokenError, match="invalid signature"):
        verify_checkpoint(forged, KEYS)


@pytest.mark.parametrize(
    "line",
    [
        b"{",
        b"[]",
        b'{"v":2,"seq":1,"head":"x","ts":"t","key_id":"k","sig":"s"}',
        b'{"v":1,"seq":1,"head":"x","ts":"t","key_id":"k"}',
        b'{"v":1,"seq":0,"head":"x","ts":"t","key_id":"k","sig":"s"}',
        b'{"v":1,"seq":true,"head":"x","ts":"t","key_id":"k","sig":"s"}',
        b'{"v":1,"seq":1,"head":1,"ts":"t","key_id":"k","sig":"s"}',
    ],
)
def test_from_json_rejects_what_is_not_a_checkpoint(line: bytes) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_json(line)


@pytest.mark.parametrize(
    ("head_seq", "last_seq", "elapsed", "due"),
    [
        (0, 0, 999.0, False),  # nothing written yet
        (10, 10, 999.0, False),  # nothing new since the last checkpoint
        (109, 10, 1.0, False),  # 99 new records, 1 s: not yet
        (110, 10, 1.0, True),  # 100 new records
        (11, 10, 60.0, True),  # one new record, interval passed
    ],
)
def test_schedule_is_every_n_records_or_t_seconds(
    head_seq: int, last_seq: int, elapsed: float, due: bool
) -> None:
    schedule = CheckpointSchedule(every_records=100, every_seconds=60.0)
    assert schedule.due(head_seq, last_seq, T0, T0 + elapsed) is due


def test_schedule_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CheckpointSchedule(every_records=0)
    with pytest.raises(ValueError, match="positive"):
        CheckpointSchedule(every_seconds=0)


# --- prune checkpoints (issue 11 audit 4) -------------------------------------------------------

DIGEST = "ef" * 32


def test_prune_checkpoint_signs_the_range_and_the_export() -> None:
    checkpoint = sign_checkpoint(42, HEAD, T0, KEY, pruned_from=1, export_sha256=DIGEST)
    verify_checkpoint(checkpoint, KEYS)
    assert checkpoint.is_prune
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    assert b'"pruned_from":1' in checkpoint.payload()
    for forged in (replace(checkpoint, pruned_from=2), replace(checkpoint, export_sha256=HEAD)):
        with pytest.raises(ChainBrokenError, match="invalid signature"):
            verify_checkpoint(forged, KEYS)


def test_a_head_checkpoint_cannot_be_turned_into_a_prune() -> None:
    checkpoint = sign_checkpoint(42, HEAD, T0, KEY)
    assert not checkpoint.is_prune
    with pytest.raises(ChainBrokenError, match="invalid signature"):
        verify_checkpoint(replace(checkpoint, pruned_from=1), KEYS)


@pytest.mark.parametrize(
    "extra",
    [
        b',"pruned_from":0',
        b',"pruned_from":43',
        b',"pruned_from":"1"',
        b',"pruned_from":true',
        b',"pruned_from":1,"export_sha256":5',
        b',"export_sha256":"' + b"ab" * 32 + b'"',
    ],
)
def test_from_json_rejects_a_malformed_prune(extra: bytes) -> None:
    line = b'{"v":1,"seq":42,"head":"x","ts":"t","key_id":"k","sig":"s"' + extra + b"}"
    with pytest.raises(ValueError, match=r"\S"):
        Checkpoint.from_json(line)


# --- the key a log is signed with (issue 11 audit 3) --------------------------------------------

OTHER = Ed25519PrivateKey.generate()


def test_a_log_without_checkpoints_takes_any_key() -> None:
    check_signing_key(None, [], "k.pem")
    check_signing_key("anything", [], "k.pem")


def test_the_key_of_the_newest_checkpoint_is_accepted() -> None:
    kept = [sign_checkpoint(1, HEAD, T0, OTHER), sign_checkpoint(9, HEAD, T0, KEY)]
    check_signing_key(key_id(KEY.public_key()), kept, "k.pem")  # rotated from OTHER to KEY


@pytest.mark.parametrize("current", [None, "0123456789abcdef"])
def test_a_missing_or_foreign_key_is_refused(current: str | None) -> None:
    kept = [sign_checkpoint(9, HEAD, T0, KEY)]
    with pytest.raises(CheckpointKeyError) as info:
        check_signing_key(current, kept, "/etc/glassgate/k.pem")
    message = str(info.value)
    assert key_id(KEY.public_key()) in message
    assert "/etc/glassgate/k.pem" in message
    assert "rotate-key" in message
    assert info.value.code == "checkpoint_key_mismatch"
