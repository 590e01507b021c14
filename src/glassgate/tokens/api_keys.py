"""API keys for machine identities (SPEC C4): the format, the hash and key → ``Principal``.

A key is ``gg_<key id>_<secret>``, 59 ASCII characters, for example
``gg_k7xq2mz4ab3c_kG0y...`` (the secret is 43 characters):

- ``gg_`` marks a glassgate key. The gateway routes such a credential to the
  key store before any JWT handling, so a key is never sent to an IdP for
  introspection, and secret scanners (and ``audit.screening``) can recognise it.
- the **key id**: 12 characters of lower-case RFC 4648 base32 (60 random bits).
  It is *public*: it names the key in ``glassgate apikey list``, in logs, in
  audit records (as ``jti``) and in quota buckets.
- the **secret**: 32 bytes from ``secrets`` as unpadded base64url (43 characters).

Only a SHA-256 digest of the secret is stored, bound to its key id and domain
separated (``hash_secret``), and compared with ``hmac.compare_digest``. A slow
password hash (bcrypt, scrypt, Argon2) is deliberately not used: those make
guessing *low-entropy passwords* from a leaked hash expensive, but a 256-bit
random secret cannot be guessed from its digest at any hashing speed, and
there is no dictionary to precompute (so no salt is needed either). A slow hash
would only add tens of milliseconds of CPU to every uncached request: a lever
for anyone flooding the gateway with made-up keys.

Checks run in a fixed order: the secret first, then revocation, then expiry,
so only a holder of the secret can learn a key's state (outward every failure
is the same ``invalid_token`` anyway). Whether a key *id* exists is not a
secret, so an unknown id may fail faster than a wrong secret.

Pure: no I/O and no clock (``now`` is passed in); only ``generate_*`` draw from
``secrets``. The plaintext key exists only in ``IssuedKey.key`` (a ``Secret``)
between creation and the one time it is shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from glassgate.core.principal import CredentialKind, Principal, token_fingerprint
from glassgate.errors import (
    ApiKeyExpiredError,
    ApiKeyMalformedError,
    ApiKeyRevokedError,
    ApiKeySecretMismatchError,
    ApiKeyUnknownError,
)
from glassgate.types import Secret

__all__ = [
    "API_KEY_ISSUER",
    "API_KEY_LENGTH",
    "API_KEY_PREFIX",
    "ApiKeyRecord",
    "IssuedKey",
    "ParsedApiKey",
    "generate_key_id",
    "hash_secret",
    "is_api_key",
    "issue_api_key",
    "parse_api_key",
    "verify_api_key",
]

API_KEY_PREFIX: Final = "gg_"
# ``Principal.issuer`` of every key: no IdP issued it. A route that names
# ``issuers`` accepts only those, so API keys are refused there (issuer-denied).
API_KEY_ISSUER: Final = "urn:glassgate:api-key"
KEY_ID_CHARS: Final = 12
SECRET_BYTES: Final = 32
_SECRET_CHARS: Final = 43  # base64url of 32 bytes, unpadded
API_KEY_LENGTH: Final = len(API_KEY_PREFIX) + KEY_ID_CHARS + 1 + _SECRET_CHARS

_KEY_ID = re.compile(r"[a-z2-7]{12}")
_FORMAT = re.compile(r"gg_([a-z2-7]{12})_([A-Za-z0-9_-]{43})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HASH_CONTEXT: Final = b"glassgate-api-key-v1\x00"
MAX_SUBJECT_CHARS: Final = 256
MAX_GROUPS: Final = 64
MAX_GROUP_CHARS: Final = 256
MAX_ROUTES: Final = 256

Status = Literal["active", "expired", "revoked"]


def is_api_key(raw: str) -> bool:
    """Whether ``raw`` claims to be an API key: routing only, never the last word.

    Case-insensitive, so a mistyped ``GG_...`` is still kept away from an IdP.
    """
    return raw[:3].lower() == API_KEY_PREFIX


@dataclass(frozen=True, slots=True)
class ParsedApiKey:
    """A well-formed key split into its public id and its secret (masked in ``repr``)."""

    key_id: str
    secret: Secret


def parse_api_key(raw: str) -> ParsedApiKey:
    """Split ``gg_<id>_<secret>``; ``ApiKeyMalformedError`` for anything else.

    The length is checked before the (anchored, fixed-width) pattern, so hostile
    input costs at most one bounded regex match.
    """
    match = _FORMAT.fullmatch(raw) if len(raw) == API_KEY_LENGTH else None
    if match is None:
        raise ApiKeyMalformedError(
            f"an API key is 'gg_', a {KEY_ID_CHARS}-character key id, '_' and a "
            f"{_SECRET_CHARS}-character secret ({API_KEY_LENGTH} characters in all)"
        )
    return ParsedApiKey(match.group(1), Secret(match.group(2)))


def hash_secret(key_id: str, secret: str) -> str:
    """SHA-256 hex of the secret, bound to its key id (see the module docstring for why)."""
    material = _HASH_CONTEXT + key_id.encode("ascii") + b"\x00" + secret.encode("ascii")
    return hashlib.sha256(material).hexdigest()


def generate_key_id() -> str:
    """12 lower-case base32 characters: 60 random bits, unique without coordination."""
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:KEY_ID_CHARS].lower()


def _check_text(what: str, value: str, limit: int) -> None:
    if not value or len(value) > limit or _CONTROL.search(value):
        raise ValueError(f"{what} must be 1 to {limit} characters without control characters")


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What is stored about a key: everything except its secret.

    ``routes`` is the route-id allow-list (``Principal.route_scope``); ``None``
    means every route the policy lets the key's groups reach. Times are epoch
    seconds. ``secret_hash`` is kept out of ``repr``.
    """

    key_id: str
    name: str
    subject: str
    secret_hash: str = field(repr=False)
    groups: frozenset[str] = frozenset()
    routes: frozenset[str] | None = None
    quota_tier: str | None = None
    created_at: float = 0.0
    expires_at: float | None = None
    created_by: str | None = None
    revoked_at: float | None = None
    revoked_by: str | None = None

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("an API key id is 12 characters of lower-case base32")
        if not _HEX64.fullmatch(self.secret_hash):
            raise ValueError("secret_hash must be a SHA-256 hex digest (see hash_secret)")
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                "an API key name is 1 to 64 characters: letters, digits and _ . : @ - "
                "(starting with a letter or digit)"
            )
        _check_text("the subject", self.subject, MAX_SUBJECT_CHARS)
        if len(self.groups) > MAX_GROUPS:
            raise ValueError(f"an API key has at most {MAX_GROUPS} groups")
        for group in self.groups:
            _check_text("a group name", group, MAX_GROUP_CHARS)
        if self.routes is not None:
            if not self.routes or len(self.routes) > MAX_ROUTES:
                raise ValueError(f"a route scope lists 1 to {MAX_ROUTES} route ids (or is None)")
            for route in self.routes:
                _check_text("a route id", route, 64)
        if self.quota_tier is not None:
            _check_text("a quota tier", self.quota_tier, 64)
        times = (self.created_at, self.expires_at, self.revoked_at)
        if not all(math.isfinite(t) and t >= 0 for t in times if t is not None):
            raise ValueError("API key times must be finite epoch seconds")
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise ValueError("an API key must expire after it was created")

    def status(self, now: float) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: the plaintext (shown once, never stored) and the record to store."""

    key: Secret
    record: ApiKeyRecord


def issue_api_key(
    *,
    name: str,
    subject: str,
    now: float,
    groups: Iterable[str] = (),
    routes: Iterable[str] | None = None,
    quota_tier: str | None = None,
    expires_at: float | None = None,
    created_by: str | None = None,
    key_id: str | None = None,
) -> IssuedKey:
    """Generate a key and its record; ``ValueError`` names the first bad field."""
    key_id = key_id or generate_key_id()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    record = ApiKeyRecord(
        key_id=key_id,
        name=name,
        subject=subject,
        secret_hash=hash_secret(key_id, secret),
        groups=frozenset(groups),
        routes=None if routes is None else frozenset(routes),
        quota_tier=quota_tier,
        created_at=now,
        expires_at=expires_at,
        created_by=created_by,
    )
    return IssuedKey(Secret(f"{API_KEY_PREFIX}{key_id}_{secret}"), record)


def verify_api_key(
    parsed: ParsedApiKey, record: ApiKeyRecord | None, now: float, raw: str
) -> Principal:
    """The key's ``Principal``, or the ``ApiKeyError`` that says why not.

    ``record`` is what the store holds for ``parsed.key_id`` (``None``: nothing).
    ``raw`` is the whole credential; only its SHA-256 fingerprint is kept.
    """
    if record is None or record.key_id != parsed.key_id:
        raise ApiKeyUnknownError(f"no API key with id {parsed.key_id}")
    presented = hash_secret(parsed.key_id, parsed.secret.reveal())
    if not hmac.compare_digest(presented, record.secret_hash):
        raise ApiKeySecretMismatchError(f"the secret of API key {record.key_id} does not match")
    if record.revoked_at is not None:
        raise ApiKeyRevokedError(f"API key {record.key_id} was revoked")
    if record.expires_at is not None and now >= record.expires_at:
        raise ApiKeyExpiredError(f"API key {record.key_id} has expired")
    return Principal(
        subject=record.subject,
        issuer=API_KEY_ISSUER,
        groups=record.groups,
        expires_at=record.expires_at,
        token_id=record.key_id,
        token_hash=token_fingerprint(raw),
        kind=CredentialKind.API_KEY,
        claims=MappingProxyType(
            {
                "sub": record.subject,
                "groups": sorted(record.groups),
                "key_id": record.key_id,
                "key_name": record.name,
            }
        ),
        quota_tier=record.quota_tier,
        route_scope=record.routes,
    )
