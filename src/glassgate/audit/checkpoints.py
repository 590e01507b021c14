"""Signed checkpoints over chain heads (Ed25519, RFC 8032).

A checkpoint says "at time T the chain's record N had hash H", signed with a
key kept apart from the database. Written every N records or T seconds to the
database *and* to places the database's owner cannot rewrite (an append-only
file, syslog), it lets ``verify`` notice what a hash chain alone cannot: a
deleted tail, or a chain rewritten from some record onwards.

A *prune* checkpoint (``pruned_from`` set) says more: "records
``pruned_from``..N were removed on purpose, after an export whose SHA-256 is
``export_sha256``; the log now starts after record N, whose hash was H". It is
what lets ``verify`` accept a log that starts late (``audit prune``).

This module is pure: keys come in as objects, time as ``now``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from glassgate.audit.records import canonical_json, format_ts
from glassgate.errors import ChainBrokenError, CheckpointKeyError

__all__ = [
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointSchedule",
    "check_signing_key",
    "key_id",
    "sign_checkpoint",
    "verify_checkpoint",
]

CHECKPOINT_VERSION: Final = 1


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a key: the first 16 hex digits of SHA-256(raw key)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement about one chain head. ``signature`` is base64url, unpadded."""

    seq: int
    head: str
    ts: str
    key_id: str
    signature: str
    pruned_from: int | None = None  # a prune checkpoint: records pruned_from..seq were removed
    export_sha256: str | None = None  # and exported first, to a file with this digest

    @property
    def is_prune(self) -> bool:
        return self.pruned_from is not None

    def _signed_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "v": CHECKPOINT_VERSION,
            "seq": self.seq,
            "head": self.head,
            "ts": self.ts,
            "key_id": self.key_id,
        }
        if self.pruned_from is not None:
            fields["pruned_from"] = self.pruned_from
            fields["export_sha256"] = self.export_sha256
        return fields

    def payload(self) -> bytes:
        """The exact bytes that are signed."""
        return canonical_json(self._signed_fields())

    def to_json(self) -> bytes:
        """One line of the checkpoint file (without the newline): the signed fields and ``sig``."""
        return canonical_json({**self._signed_fields(), "sig": self.signature})

    @classmethod
    def from_json(cls, line: bytes | str) -> Checkpoint:
        """Parse one line; ``ValueError`` if it is not a checkpoint."""
        try:
            data: Any = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a JSON checkpoint: {exc}") from None
        return cls.from_fields(data)

    @classmethod
    def from_fields(cls, data: object) -> Checkpoint:
        """A checkpoint from its decoded JSON object; ``ValueError`` if it is not one."""
        fields = ("seq", "head", "ts", "key_id", "sig")
        if not isinstance(data, dict) or data.get("v") != CHECKPOINT_VERSION:
            raise ValueError("not a version 1 checkpoint")
        if not all(name in data for name in fields):
            raise ValueError("checkpoint is missing fields")
        seq = data["seq"]
        if not _is_positive_int(seq):
            raise ValueError("checkpoint seq must be a positive integer")
        if not all(isinstance(data[name], str) for name in fields[1:]):
            raise ValueError("checkpoint fields must be strings")
        pruned_from, export = _prune_fields(data, seq)
        return cls(seq, data["head"], data["ts"], data["key_id"], data["sig"], pruned_from, export)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _prune_fields(data: dict[str, Any], seq: int) -> tuple[int | None, str | None]:
    """``(pruned_from, export_sha256)`` of a prune checkpoint; ``(None, None)`` otherwise."""
    if "pruned_from" not in data:
        if "export_sha256" in data:
            raise ValueError("export_sha256 belongs to a prune checkpoint only")
        return None, None
    first, export = data["pruned_from"], data.get("export_sha256")
    if not _is_positive_int(first) or first > seq:
        raise ValueError("pruned_from must be a positive integer no larger than seq")
    if export is not None and not isinstance(export, str):
        raise ValueError("export_sha256 must be a string")
    return first, export


def sign_checkpoint(
    seq: int,
    head: str,
    now: float,
    key: Ed25519PrivateKey,
    *,
    pruned_from: int | None = None,
    export_sha256: str | None = None,
) -> Checkpoint:
    """Sign the head ``(seq, head)`` as of ``now``; with ``pruned_from``, a prune checkpoint."""
    ts, kid = format_ts(now), key_id(key.public_key())
    unsigned = Checkpoint(seq, head, ts, kid, "", pruned_from, export_sha256)
    signature = key.sign(unsigned.payload())
    encoded = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    return replace(unsigned, signature=encoded)


def verify_checkpoint(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Return if ``checkpoint`` verifies under a trusted key; else raise ``forged-checkpoint``."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        raise ChainBrokenError(
            checkpoint.seq,
            "forged-checkpoint",
            f"checkpoint at record {checkpoint.seq} is signed by unknown key {checkpoint.key_id}; "
            "if the checkpoint key was rotated, also pass the old public key",
        )
    try:
        padded = checkpoint.signature + "=" * (-len(checkpoint.signature) % 4)
        key.verify(base64.urlsafe_b64decode(padded), checkpoint.payload())
    except (InvalidSignature, binascii.Error, ValueError):
        raise ChainBrokenError(
            checkpoint.seq,
            "forged-checkpoint",
            f"checkpoint at record {checkpoint.seq} ({checkpoint.ts}) has an invalid signature",
        ) from None


@dataclass(frozen=True, slots=True)
class CheckpointSchedule:
    """When to write the next checkpoint: every N records or T seconds, whichever first."""

    every_records: int = 1000
    every_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.every_records < 1:
            raise ValueError("checkpoint every_records must be at least 1")
        if self.every_seconds <= 0:
            raise ValueError("checkpoint interval must be positive")

    def due(self, head_seq: int, last_seq: int, last_time: float, now: float) -> bool:
        """True when records were added since ``last_seq`` and a threshold is reached."""
        if head_seq <= last_seq:
            return False
        return head_seq - last_seq >= self.every_records or now - last_time >= self.every_seconds


def check_signing_key(key_id: str | None, kept: Sequence[Checkpoint], where: str) -> None:
    """Refuse to sign a log with a key other than the one its newest checkpoint names.

    ``key_id`` is the key at ``where`` (``None``: there is no key file yet).
    A new key, or another deployment's, would sign checkpoints no verifier
    of this log trusts, and a missing key would be silently replaced: both
    are refused until the key is restored or rotated on purpose.
    """
    if not kept:
        return
    newest = max(kept, key=lambda item: item.seq)
    if key_id == newest.key_id:
        return
    found = "there is no key file" if key_id is None else f"its key is {key_id}"
    raise CheckpointKeyError(
        f"the audit log's newest checkpoint (record {newest.seq}) is signed by key "
        f"{newest.key_id}, but {found} at {where}; point audit.checkpoint.key_file at that "
        "key, or change keys on purpose with `glassgate audit rotate-key`"
    )
