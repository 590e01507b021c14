"""Local identities: enrol, lock after use, rotate, and who may sign in."""

from __future__ import annotations

import pytest

from glassgate.errors import AccountLockedError, AuthenticationFailedError, InvalidTransitionError
from glassgate.workflows.identities import (
    IdentityKind,
    IdentityState,
    check_can_sign_in,
    complete_enrolment,
    lock,
    new_identity,
    rotate,
)


def active(kind: IdentityKind = IdentityKind.ACCOUNT):  # type: ignore[no-untyped-def]
    return complete_enrolment(new_identity(kind, "ops", "cli:root", 1.0), "$argon2id$h1", 2.0)


def test_lifecycle_enrol_lock_rotate() -> None:
    pending = new_identity(IdentityKind.ACCOUNT, "ops", "cli:root", 1.0)
    assert pending.ref == "breakglass:ops"
    assert pending.state is IdentityState.PENDING
    with pytest.raises(AuthenticationFailedError):
        check_can_sign_in(pending)
    account = complete_enrolment(pending, "$argon2id$h1", 2.0)
    check_can_sign_in(account)
    locked = lock(account, "R1", 3.0)
    assert locked.locked_by_request == "R1"
    with pytest.raises(AccountLockedError) as refused:
        check_can_sign_in(locked)
    assert refused.value.status == 423
    rotated = rotate(locked, "$argon2id$h2", 4.0)
    assert rotated.state is IdentityState.ACTIVE
    assert rotated.locked_at is None
    check_can_sign_in(rotated)


def test_illegal_moves() -> None:
    account = active()
    with pytest.raises(InvalidTransitionError):
        complete_enrolment(account, "$argon2id$x", 3.0)  # enrol twice
    locked = lock(account, "R1", 3.0)
    with pytest.raises(InvalidTransitionError):
        lock(locked, "R2", 4.0)  # activate while locked
    with pytest.raises(InvalidTransitionError, match="unchanged"):
        rotate(locked, "$argon2id$h1", 4.0)
    with pytest.raises(InvalidTransitionError):
        rotate(new_identity(IdentityKind.ACCOUNT, "x", "a", 0.0), "$argon2id$x", 1.0)
    with pytest.raises(InvalidTransitionError, match="custodians"):
        lock(active(IdentityKind.CUSTODIAN), "R1", 3.0)


def test_repr_hides_the_hash() -> None:
    assert "argon2" not in repr(active())
