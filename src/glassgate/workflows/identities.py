"""Local identities: break-glass accounts and custodians, kept outside the IdP (SPEC C7).

They are a kind of identity of their own: rules, imports and provisioning
never see or touch them, and nothing about them depends on the IdP being up.
Both sign in with a password (argon2id) and a WebAuthn key, both factors
every time. An account's lifecycle::

    PENDING ──enrol (link: password + key)──► ACTIVE ──lock (real activation)──► LOCKED
                                                ▲                                  │
                                                └──rotate (reset link after quorum)┘

Custodians are never locked by use: they approve, they do not act. A
locked account cannot sign in until its password and key are rotated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import AccountLockedError, AuthenticationFailedError, InvalidTransitionError

__all__ = [
    "IdentityKind",
    "IdentityState",
    "LocalIdentity",
    "check_can_sign_in",
    "complete_enrolment",
    "lock",
    "new_identity",
    "rotate",
]


class IdentityKind(StrEnum):
    ACCOUNT = "breakglass"
    CUSTODIAN = "custodian"


class IdentityState(StrEnum):
    PENDING = "pending-enrolment"
    ACTIVE = "active"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LocalIdentity:
    """A break-glass account or a custodian; ``ref`` (``kind:name``) is its id everywhere."""

    kind: IdentityKind
    name: str
    created_at: float
    created_by: str
    state: IdentityState = IdentityState.PENDING
    password_hash: str | None = None
    enrolled_at: float | None = None
    locked_at: float | None = None
    locked_by_request: str | None = None
    rotated_at: float | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.name}"

    def __repr__(self) -> str:  # the hash is not a secret, but it has no business in logs
        return f"LocalIdentity({self.ref!r}, state={self.state.value!r})"


def new_identity(kind: IdentityKind, name: str, actor: str, now: float) -> LocalIdentity:
    return LocalIdentity(kind, name, now, actor)


def complete_enrolment(identity: LocalIdentity, password_hash: str, now: float) -> LocalIdentity:
    """First password and key, set through the enrolment link."""
    if identity.state is not IdentityState.PENDING:
        raise InvalidTransitionError(identity.state.value, "enrol")
    return replace(
        identity, state=IdentityState.ACTIVE, password_hash=password_hash, enrolled_at=now
    )


def lock(identity: LocalIdentity, request_id: str, now: float) -> LocalIdentity:
    """After a real activation: no sign-in until password and key are rotated."""
    if identity.kind is not IdentityKind.ACCOUNT:
        raise InvalidTransitionError(identity.kind.value, "lock", "custodians are not locked")
    if identity.state is not IdentityState.ACTIVE:
        raise InvalidTransitionError(identity.state.value, "lock")
    return replace(
        identity, state=IdentityState.LOCKED, locked_at=now, locked_by_request=request_id
    )


def rotate(identity: LocalIdentity, password_hash: str, now: float) -> LocalIdentity:
    """New password (and, alongside, a new key) through a quorum-approved reset link."""
    if identity.state is IdentityState.PENDING:
        raise InvalidTransitionError(identity.state.value, "rotate", "enrol it first")
    if password_hash == identity.password_hash:
        raise InvalidTransitionError(identity.state.value, "rotate", "the password is unchanged")
    return replace(
        identity,
        state=IdentityState.ACTIVE,
        password_hash=password_hash,
        rotated_at=now,
        locked_at=None,
        locked_by_request=None,
    )


def check_can_sign_in(identity: LocalIdentity) -> None:
    """Called only after both factors verified, so the answer discloses nothing to a guesser."""
    if identity.state is IdentityState.LOCKED:
        raise AccountLockedError(
            f"{identity.ref} is locked since its last activation; a custodian quorum must "
            "approve `glassgate breakglass reset` and the holder rotate password and key"
        )
    if identity.state is not IdentityState.ACTIVE:
        raise AuthenticationFailedError("identity-not-enrolled")
