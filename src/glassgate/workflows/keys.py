"""WebAuthn credentials ("keys") of local identities, as stored: public material only.

A key belongs to one identity (``LocalIdentity.ref``). ``sign_count`` is the
authenticator's counter as last seen; the ceremony refuses an assertion that
does not move it forward (a cloned key), and the store keeps the new value
after every successful use. Passkeys (synced, counter 0) and roaming
security keys are both accepted; replay of their assertions is stopped by
single-use challenges (``challenges``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["WebAuthnKey", "retire", "touch"]


@dataclass(frozen=True, slots=True)
class WebAuthnKey:
    credential_id: str  # base64url, as the browser reports it
    identity: str  # LocalIdentity.ref
    public_key: bytes  # COSE-encoded
    sign_count: int
    created_at: float
    aaguid: str = ""
    device_type: str = ""  # "single_device" (security key) or "multi_device" (passkey)
    backed_up: bool = False
    last_used_at: float | None = None
    retired_at: float | None = None  # replaced at a rotation: never accepted again

    @property
    def key_id(self) -> str:
        """A short, stable id for reports and audit records (not secret)."""
        return self.credential_id[:16]

    def __repr__(self) -> str:
        return f"WebAuthnKey({self.key_id!r}, identity={self.identity!r})"


def touch(key: WebAuthnKey, sign_count: int, now: float) -> WebAuthnKey:
    return replace(key, sign_count=sign_count, last_used_at=now)


def retire(key: WebAuthnKey, now: float) -> WebAuthnKey:
    return replace(key, retired_at=now)
