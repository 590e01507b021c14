"""What every WebAuthn step of the workflows shares: the live keys, and using a challenge.

``use_challenge`` loads the challenge the browser names, checks it was
issued for exactly this purpose, subject and bound fields, and marks it used
in the store *before* the assertion is verified, so a challenge never serves
two attempts, whether the first one succeeded or not.
"""

from __future__ import annotations

from collections.abc import Mapping

from glassgate.errors import AuthenticationFailedError
from glassgate.types import JSONValue
from glassgate.workflows.challenges import Challenge, ChallengePurpose, consume
from glassgate.workflows.keys import WebAuthnKey
from glassgate.workflows.records import Change, Records, Versioned

__all__ = ["key_version", "live_keys", "use_challenge"]


async def live_keys(records: Records, identity: str) -> list[Versioned[WebAuthnKey]]:
    """The identity's keys that are not retired (a rotation retires all older ones)."""
    keys = await records.find(WebAuthnKey, a=identity)
    return [key for key in keys if key.value.retired_at is None]


def key_version(keys: list[Versioned[WebAuthnKey]], key: WebAuthnKey) -> int:
    return next(k.version for k in keys if k.value.credential_id == key.credential_id)


async def use_challenge(
    records: Records,
    challenge_id: str,
    purpose: ChallengePurpose,
    subject: str,
    fields: Mapping[str, JSONValue],
    now: float,
) -> Challenge:
    stored = await records.get(Challenge, challenge_id[:64])
    if stored is None:
        raise AuthenticationFailedError("challenge-unknown")
    used = consume(stored.value, purpose, subject, fields, now)
    await records.commit(Change(used, stored.version))
    return used
