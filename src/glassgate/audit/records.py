"""Audit events and records: what is written, and its canonical bytes (SPEC C8).

An ``AuditEvent`` is what a caller reports; an ``AuditRecord`` is that event
placed in the chain, with a sequence number, a timestamp and the SHA-256 of
the previous record. A record's *canonical bytes* are the JSON object of its
fields with sorted keys, compact separators, UTF-8 and no NaN; they are what is
hashed, stored, exported and verified. Verification always hashes the stored
bytes, never a re-serialisation, so the bytes are the record. Records are
encoded with orjson (``OPT_SORT_KEYS``): the same bytes as ``canonical_json``
for strings, integers, booleans, null and ordinary floats, in a tenth of the
time; a float in exponent form is written ``1e-6`` where ``json`` writes
``1e-06`` (either verifies: the stored bytes are hashed, never rebuilt).

No token, password or secret may ever enter a record: keys of ``details`` are
checked against a deny-list and every string is screened for bearer tokens and
JWTs at construction (``ValueError``: it is a programming error). Record the
token's fingerprint (``core.principal.token_fingerprint``) and its ``jti`` instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

import orjson

from glassgate.audit.screening import check_json, check_text, plain
from glassgate.timestamps import utc_parts
from glassgate.types import JSONValue

__all__ = [
    "GENESIS_HASH",
    "RECORD_VERSION",
    "SEARCH_COLUMNS",
    "AuditEvent",
    "AuditRecord",
    "EventType",
    "canonical_json",
    "check_details_size",
    "format_ts",
    "parse_record",
    "parse_ts",
    "record_json",
]

RECORD_VERSION: Final = 1
GENESIS_HASH: Final = "0" * 64
#: The fields a SQL store also keeps in columns of their own, for search. They are
#: copies: verification checks each against the hashed body (``chain.check_columns``).
SEARCH_COLUMNS: Final = ("ts", "type", "outcome", "subject", "actor", "route", "request_id")
MAX_DETAILS_BYTES: Final = 16 * 1024
MAX_FIELD_CHARS: Final = 512


class EventType:
    """Well-known event types; any dotted kebab-case name is allowed.

    Only ``decision`` is ordinary traffic. Every other type (admin,
    break-glass, grants, config reloads, ...) is privileged: written durably,
    never sampled.
    """

    DECISION: Final = "decision"
    CONFIG_RELOAD: Final = "config.reload"
    ADMIN_PREFIX: Final = "admin"
    BREAKGLASS_PREFIX: Final = "breakglass"
    GRANT_PREFIX: Final = "grant"


_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){0,3}$")
_OUTCOME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The one serialisation that is hashed and signed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def record_json(fields: Mapping[str, Any]) -> bytes:
    """A record's canonical bytes: sorted keys, compact, UTF-8, no NaN (see the module doc).

    Only for fields that were checked (finite numbers: ``AuditEvent`` refuses
    the others, and orjson would write NaN as null); what orjson cannot encode
    (an integer beyond 64 bits) falls back to ``canonical_json``.
    """
    try:
        return _ORJSON(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return canonical_json(fields)


_ORJSON: Final[Callable[..., bytes]] = orjson.dumps


def format_ts(epoch: float) -> str:
    """RFC 3339 UTC with microseconds; fixed width, so text order is time order.

    The text of ``datetime.fromtimestamp(epoch, UTC).strftime("...%fZ")``
    (``timestamps.utc_parts``: formatted once per second).
    """
    second, micros = utc_parts(epoch)
    return f"{second}.{micros:06d}Z"


def parse_ts(text: str) -> float:
    """Epoch seconds from an RFC 3339 / ISO 8601 time; naive times are UTC."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def check_details_size(details: Mapping[str, Any]) -> None:
    """``ValueError`` when ``details`` would take more than ``MAX_DETAILS_BYTES``."""
    if len(record_json(details)) > MAX_DETAILS_BYTES:
        raise ValueError(f"audit details exceed {MAX_DETAILS_BYTES} bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """Something that happened, as the caller reports it.

    ``at`` is when it happened (epoch seconds, from the caller's clock).
    ``privileged`` marks a decision made with elevated access (a break-glass or
    just-in-time grant, an admin route); every non-``decision`` type is
    privileged anyway. ``sample_rate`` is set by the audit log when allowed
    traffic is sampled, so that reports can scale counts back up.
    """

    type: str
    outcome: str
    at: float
    subject: str | None = None
    actor: str | None = None
    route: str | None = None
    reasons: tuple[str, ...] = ()
    token_hash: str | None = None
    jti: str | None = None
    request_id: str | None = None
    privileged: bool = False
    sample_rate: float = 1.0
    details: Mapping[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise ValueError(f"audit event type {self.type!r} must be dotted kebab-case")
        if not _OUTCOME.match(self.outcome):
            raise ValueError(f"audit outcome {self.outcome!r} must be kebab-case")
        if not math.isfinite(self.at) or self.at < 0:
            raise ValueError("audit event time 'at' must be epoch seconds")
        if not 0.0 < self.sample_rate <= 1.0:
            raise ValueError("audit sample_rate must be in (0, 1]")
        if self.token_hash is not None and not _HEX64.match(self.token_hash):
            raise ValueError("token_hash must be a SHA-256 hex digest (use token_fingerprint)")
        self._check_fields()
        check_json(self.details, "details")
        details = plain(self.details)
        check_details_size(details)
        object.__setattr__(self, "details", MappingProxyType(details))

    @classmethod
    def screened(
        cls,
        type: str,
        outcome: str,
        at: float,
        *,
        subject: str | None,
        route: str | None,
        reasons: tuple[str, ...],
        token_hash: str | None,
        jti: str | None,
        request_id: str | None,
        privileged: bool,
        sample_rate: float,
        details: dict[str, JSONValue],
    ) -> AuditEvent:
        """An event from a builder that screens every field by construction.

        ``audit.events.decision_event`` cleans every text it takes from a
        client or a token (``redact_text``, a fixed point of the screen) and
        uses fixed keys and typed values otherwise, so the per-field checks of
        ``__init__`` would find nothing: they are skipped here, which is most
        of an ordinary record's cost. The size cap still holds.
        """
        check_details_size(details)
        event = object.__new__(cls)
        for name, value in (
            ("type", type),
            ("outcome", outcome),
            ("at", at),
            ("subject", subject),
            ("actor", None),
            ("route", route),
            ("reasons", reasons),
            ("token_hash", token_hash),
            ("jti", jti),
            ("request_id", request_id),
            ("privileged", privileged),
            ("sample_rate", sample_rate),
            ("details", MappingProxyType(details)),
        ):
            object.__setattr__(event, name, value)
        return event

    def _check_fields(self) -> None:
        texts = (
            ("subject", self.subject),
            ("actor", self.actor),
            ("route", self.route),
            ("jti", self.jti),
            ("request_id", self.request_id),
            *((f"reasons[{i}]", reason) for i, reason in enumerate(self.reasons)),
        )
        for name, value in texts:
            if value is None:
                continue
            if len(value) > MAX_FIELD_CHARS:
                raise ValueError(f"audit field {name} is longer than {MAX_FIELD_CHARS} chars")
            check_text(value, name)

    @property
    def is_privileged(self) -> bool:
        return self.privileged or self.type != EventType.DECISION


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An event placed in the chain: ``body`` is its canonical bytes, ``hash`` their SHA-256."""

    seq: int
    ts: str
    type: str
    outcome: str
    subject: str | None
    actor: str | None
    route: str | None
    reasons: tuple[str, ...]
    token_hash: str | None
    jti: str | None
    request_id: str | None
    privileged: bool
    sample_rate: float
    details: Mapping[str, Any]
    prev: str
    body: bytes = field(repr=False)
    hash: str

    @classmethod
    def build(cls, seq: int, prev: str, event: AuditEvent) -> AuditRecord:
        """Place ``event`` after the record whose hash is ``prev``."""
        fields: dict[str, Any] = {
            "v": RECORD_VERSION,
            "seq": seq,
            "ts": format_ts(event.at),
            "type": event.type,
            "outcome": event.outcome,
            "subject": event.subject,
            "actor": event.actor,
            "route": event.route,
            "reasons": list(event.reasons),
            "token_hash": event.token_hash,
            "jti": event.jti,
            "request_id": event.request_id,
            "privileged": event.is_privileged,
            "sample_rate": event.sample_rate,
            "details": dict(event.details),
            "prev": prev,
        }
        return _from_fields(fields, record_json(fields))

    def as_dict(self) -> dict[str, Any]:
        """The record's fields as plain JSON values (what the body encodes)."""
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


def _from_fields(fields: Mapping[str, Any], body: bytes) -> AuditRecord:
    return AuditRecord(
        seq=fields["seq"],
        ts=fields["ts"],
        type=fields["type"],
        outcome=fields["outcome"],
        subject=fields["subject"],
        actor=fields["actor"],
        route=fields["route"],
        reasons=tuple(fields["reasons"]),
        token_hash=fields["token_hash"],
        jti=fields["jti"],
        request_id=fields["request_id"],
        privileged=fields["privileged"],
        sample_rate=fields["sample_rate"],
        details=MappingProxyType(dict(fields["details"])),
        prev=fields["prev"],
        body=body,
        hash=hashlib.sha256(body).hexdigest(),
    )


_TYPES: Final[Mapping[str, type | tuple[type, ...]]] = {
    "v": int,
    "seq": int,
    "ts": str,
    "type": str,
    "outcome": str,
    "subject": (str, type(None)),
    "actor": (str, type(None)),
    "route": (str, type(None)),
    "reasons": list,
    "token_hash": (str, type(None)),
    "jti": (str, type(None)),
    "request_id": (str, type(None)),
    "privileged": bool,
    "sample_rate": (int, float),
    "details": dict,
    "prev": str,
}


def parse_record(body: bytes) -> AuditRecord:
    """Read stored canonical bytes back; ``ValueError`` if they are not a v1 record."""
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON audit record: {exc}") from None
    if not isinstance(fields, dict) or set(fields) != set(_TYPES):
        raise ValueError("not an audit record: unexpected or missing fields")
    for name, kind in _TYPES.items():
        value = fields[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"audit record field {name!r} has the wrong type")
    if fields["v"] != RECORD_VERSION:
        raise ValueError(f"audit record version {fields['v']} is not supported")
    return _from_fields(fields, body)
