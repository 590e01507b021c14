"""WebAuthn challenges bound to what they authorise, usable once, for five minutes.

A challenge is ``SHA-256(nonce || binding)``, where ``binding`` is the SHA-256
of the canonical JSON of what the ceremony is for: a sign-in (identity,
client address), an enrolment (the link), or a custodian's decision (request
id, account, kind, scope, expiry, approve or deny, the custodian). The
authenticator signs over the challenge, so the assertion itself commits to
the request: an assertion made for another request, decision or person, or
one replayed after use, fails ``consume``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.audit.records import canonical_json
from glassgate.errors import AuthenticationFailedError
from glassgate.types import JSONValue

__all__ = [
    "CHALLENGE_TTL",
    "Challenge",
    "ChallengePurpose",
    "binding_of",
    "consume",
    "issue_challenge",
]

CHALLENGE_TTL = 300.0


class ChallengePurpose(StrEnum):
    ENROL = "enrol"
    SIGN_IN = "sign-in"
    DECIDE = "decide"
    ADD_KEY = "add-key"


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    purpose: ChallengePurpose
    subject: str  # identity ref, or link digest for enrolment
    binding: str  # hex SHA-256 of the canonical bound fields
    nonce: bytes
    created_at: float
    expires_at: float
    used_at: float | None = None

    @property
    def value(self) -> bytes:
        """The bytes the authenticator signs over (``clientDataJSON.challenge``)."""
        return hashlib.sha256(self.nonce + bytes.fromhex(self.binding)).digest()

    def __repr__(self) -> str:
        return f"Challenge({self.id!r}, {self.purpose.value!r}, subject={self.subject!r})"


def binding_of(fields: Mapping[str, JSONValue]) -> str:
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def issue_challenge(
    purpose: ChallengePurpose,
    subject: str,
    fields: Mapping[str, JSONValue],
    now: float,
    ttl: float = CHALLENGE_TTL,
) -> Challenge:
    return Challenge(
        id=secrets.token_urlsafe(18),
        purpose=purpose,
        subject=subject,
        binding=binding_of({"purpose": purpose.value, **fields}),
        nonce=secrets.token_bytes(32),
        created_at=now,
        expires_at=now + ttl,
    )


def consume(
    challenge: Challenge | None,
    purpose: ChallengePurpose,
    subject: str,
    fields: Mapping[str, JSONValue],
    now: float,
) -> Challenge:
    """The challenge marked used, if it was issued for exactly this; else refused."""
    if challenge is None:
        raise AuthenticationFailedError("challenge-unknown")
    if challenge.used_at is not None:
        raise AuthenticationFailedError("challenge-replayed")
    if now >= challenge.expires_at:
        raise AuthenticationFailedError("challenge-expired")
    expected = binding_of({"purpose": purpose.value, **fields})
    if (
        challenge.purpose is not purpose
        or challenge.subject != subject
        or not hmac.compare_digest(challenge.binding, expected)
    ):
        raise AuthenticationFailedError("challenge-mismatch")
    return replace(challenge, used_at=now)
