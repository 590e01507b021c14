"""Argon2id password hashes (``argon2-cffi``) for break-glass accounts and custodians.

Parameters come from the config (``breakglass.argon2``); the defaults are
argon2-cffi's (t=3, m=64 MiB, p=4), about 0.1-0.25 s of CPU per check on a
small machine, which is the point: call ``verify`` off the event loop.
An unknown identity still costs one verification against a dummy hash, so
timing does not tell whether a name exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from glassgate.errors import AuthenticationFailedError, WorkflowInputError
from glassgate.types import Secret

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "Argon2Parameters", "PasswordHasher"]

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # hashing is costly: an unbounded input is a denial of service


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


class PasswordHasher:
    def __init__(self, parameters: Argon2Parameters | None = None) -> None:
        chosen = parameters or Argon2Parameters()
        self._hasher = argon2.PasswordHasher(
            time_cost=chosen.time_cost,
            memory_cost=chosen.memory_cost,
            parallelism=chosen.parallelism,
            type=argon2.Type.ID,
        )
        self._dummy = self._hasher.hash("glassgate-dummy-password")

    def hash(self, password: Secret) -> str:
        """A new argon2id hash; ``WorkflowInputError`` for a password out of bounds."""
        value = password.reveal()
        if not MIN_PASSWORD_CHARS <= len(value) <= MAX_PASSWORD_CHARS:
            raise WorkflowInputError(
                f"choose a password of {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
            )
        return self._hasher.hash(value)

    def verify(self, stored: str | None, password: Secret) -> None:
        """Return if ``password`` matches ``stored``; else ``AuthenticationFailedError``."""
        value = password.reveal()
        if len(value) > MAX_PASSWORD_CHARS:
            raise AuthenticationFailedError("password-too-long")
        try:
            self._hasher.verify(stored or self._dummy, value)
        except VerifyMismatchError:
            detail = "password-mismatch" if stored is not None else "identity-unknown"
            raise AuthenticationFailedError(detail) from None
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailedError("password-hash-invalid") from None
        if stored is None:
            raise AuthenticationFailedError("identity-unknown")

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with other parameters (rehash at the next rotation)."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
