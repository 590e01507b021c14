"""argon2id passwords: bounds, mismatch, unknown identities, rehash."""

from __future__ import annotations

import pytest

from glassgate.adapters.credentials.passwords import Argon2Parameters, PasswordHasher
from glassgate.errors import AuthenticationFailedError, WorkflowInputError
from glassgate.types import Secret

FAST = Argon2Parameters(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_and_verifies() -> None:
    hasher = PasswordHasher(FAST)
    stored = hasher.hash(Secret("correct horse battery"))
    assert stored.startswith("$argon2id$")
    hasher.verify(stored, Secret("correct horse battery"))


@pytest.mark.parametrize(
    ("stored", "given", "detail"),
    [
        ("good", "wrong password!", "password-mismatch"),
        (None, "whatever password", "identity-unknown"),
        ("$argon2id$garbage", "whatever password", "password-hash-invalid"),
        ("good", "x" * 2000, "password-too-long"),
    ],
)
def test_refusals_are_authentication_failures(stored: str | None, given: str, detail: str) -> None:
    hasher = PasswordHasher(FAST)
    real = hasher.hash(Secret("correct horse battery"))
    with pytest.raises(AuthenticationFailedError) as refused:
        hasher.verify(real if stored == "good" else stored, Secret(given))
    assert refused.value.detail == detail
    assert given not in str(refused.value)


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_new_passwords_are_bounded(password: str) -> None:
    with pytest.raises(WorkflowInputError):
        PasswordHasher(FAST).hash(Secret(password))


def test_needs_rehash_when_parameters_change() -> None:
    stored = PasswordHasher(FAST).hash(Secret("correct horse battery"))
    assert not PasswordHasher(FAST).needs_rehash(stored)
    assert PasswordHasher(Argon2Parameters(2, 16, 1)).needs_rehash(stored)
    assert PasswordHasher(FAST).needs_rehash("not a hash")
