"""Console sign-in sessions of local identities (accounts and custodians).

Not to be confused with a break-glass *session*: this one only says who is
using the console (after password + key), for at most ``ttl`` seconds, from
one client address. It grants nothing at the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from glassgate.errors import AuthenticationFailedError
from glassgate.types import Secret
from glassgate.workflows import bearer

__all__ = [
    "CONSOLE_PREFIX",
    "ConsoleSession",
    "check_console",
    "close_console",
    "open_console",
    "parse_console_token",
]

CONSOLE_PREFIX = "ggcs_"


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    id: str
    identity: str  # LocalIdentity.ref
    client_ip: str
    secret_hash: str
    signed_in_at: float
    expires_at: float
    key_id: str  # the key used at sign-in
    ended_at: float | None = None

    def __repr__(self) -> str:
        return f"ConsoleSession({self.id!r}, identity={self.identity!r})"


def open_console(
    identity: str, client_ip: str, key_id: str, now: float, ttl: float
) -> tuple[Secret, ConsoleSession]:
    minted = bearer.mint(CONSOLE_PREFIX)
    session = ConsoleSession(minted.id, identity, client_ip, minted.digest, now, now + ttl, key_id)
    return minted.token, session


def parse_console_token(raw: str) -> tuple[str, str] | None:
    return bearer.parse(CONSOLE_PREFIX, raw)


def check_console(session: ConsoleSession | None, secret: str, client_ip: str, now: float) -> None:
    """Every failure is the same sign-in failure outward; ``detail`` says which."""
    if session is None or not bearer.digest_matches(session.secret_hash, secret):
        raise AuthenticationFailedError("console-session-unknown")
    if session.ended_at is not None or now >= session.expires_at:
        raise AuthenticationFailedError("console-session-ended")
    if session.client_ip != client_ip:
        raise AuthenticationFailedError("console-session-address")


def close_console(session: ConsoleSession, now: float) -> ConsoleSession:
    return replace(session, ended_at=now)
