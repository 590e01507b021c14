"""Records of the console's IdP sign-in: a login in flight, and the session it opens.

Plain values kept in the ``WorkflowStore`` (``workflows.records``); the flow
itself is ``workflows.idp_signin``.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.principal import CredentialKind, Principal

__all__ = ["IdpLogin", "IdpSession"]


@dataclass(frozen=True, slots=True)
class IdpLogin:
    """One sign-in in flight; ``verifier`` is the PKCE secret, never shown."""

    state: str
    nonce: str
    verifier: str
    binding: str  # SHA-256 of the browser's login cookie
    expires_at: float
    used: bool = False

    def __repr__(self) -> str:
        return f"IdpLogin(expires_at={self.expires_at!r}, used={self.used!r})"


@dataclass(frozen=True, slots=True)
class IdpSession:
    """Who signed in through the IdP, as the ID token said, until ``expires_at``."""

    id: str
    secret_hash: str
    issuer: str
    subject: str
    groups: frozenset[str]
    amr: frozenset[str]
    acr: str | None
    auth_time: int | None
    signed_in_at: float
    expires_at: float
    ended_at: float | None = None

    def __repr__(self) -> str:
        return f"IdpSession({self.id!r}, subject={self.subject!r})"

    def principal(self) -> Principal:
        return Principal(
            self.subject,
            self.issuer,
            self.groups,
            amr=self.amr,
            acr=self.acr,
            auth_time=self.auth_time,
            expires_at=self.expires_at,
            kind=CredentialKind.JWT,
        )
