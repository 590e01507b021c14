"""Sign-in of local identities to the console: password and key, both, every time.

``begin`` takes a name and the client address (as the data plane determines
it) and returns WebAuthn request options; ``finish`` takes the password and
the assertion together, so "password only" and "key only" fail the same way.
Every failure is one ``AuthenticationFailedError`` outward, whatever failed:
an unknown name, an address outside the account's allowed networks, a wrong
password, a wrong or replayed key. The precise reason (``detail``) goes to
the audit log. Unknown names get options too, with a made-up credential id
derived from the name, so the options do not tell who exists.

Only once both factors verified does a locked account learn it is locked.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from glassgate.core.request import IPAddress
from glassgate.errors import AuthenticationFailedError, WorkflowError
from glassgate.ports import Ceremonies, Passwords
from glassgate.types import JSONValue, Secret
from glassgate.workflows.ceremony import key_version, live_keys, use_challenge
from glassgate.workflows.challenges import ChallengePurpose, issue_challenge
from glassgate.workflows.consoles import (
    ConsoleSession,
    check_console,
    close_console,
    open_console,
    parse_console_token,
)
from glassgate.workflows.events import Event
from glassgate.workflows.identities import IdentityKind, LocalIdentity, check_can_sign_in
from glassgate.workflows.keys import WebAuthnKey, touch
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Change, Versioned
from glassgate.workflows.views import Actor, CeremonyOptions, SignedIn

__all__ = ["SignIn", "actor_of", "normal_name"]


def normal_name(name: str) -> str:
    """A typed name as sign-in reads it: trimmed, lower-case, at most 64 characters."""
    return name.strip().lower()[:64]


def actor_of(session: ConsoleSession) -> Actor:
    kind, _, name = session.identity.partition(":")
    return Actor(session.identity, kind, name, session.id, session.signed_in_at, session.key_id)


class SignIn:
    def __init__(
        self,
        recorder: Recorder,
        policy: BreakglassPolicy,
        passwords: Passwords,
        ceremonies: Ceremonies,
    ) -> None:
        self._recorder = recorder
        self._policy = policy
        self._passwords = passwords
        self._ceremonies = ceremonies
        self._decoy_key = secrets.token_bytes(32)  # per process: decoys cannot be precomputed

    def _kind_of(self, name: str) -> IdentityKind | None:
        if name in self._policy.accounts:
            return IdentityKind.ACCOUNT
        if name in self._policy.custodians:
            return IdentityKind.CUSTODIAN
        return None

    def _address_allowed(self, kind: IdentityKind | None, name: str, client: IPAddress) -> bool:
        if kind is IdentityKind.ACCOUNT:
            return self._policy.accounts[name].allows(client)
        return kind is IdentityKind.CUSTODIAN and self._policy.custodian_may_sign_in(client)

    def may_sign_in_from(self, name: str, client: IPAddress) -> bool:
        """Whether ``name`` names an identity that may sign in from ``client`` at all.

        Not a check (``finish`` decides): the console's throttle counts an attempt
        against the account only when it could succeed, so attempts from anywhere
        else cannot lock the real holder out.
        """
        name = normal_name(name)
        return self._address_allowed(self._kind_of(name), name, client)

    def _fields(self, name: str, client: IPAddress) -> dict[str, JSONValue]:
        return {"name": name, "client_ip": str(client)}

    async def begin(self, name: str, client: IPAddress) -> CeremonyOptions:
        """Request options for ``name``; always answers, so it discloses nobody's existence."""
        now = self._recorder.clock()
        name = normal_name(name)
        kind = self._kind_of(name)
        keys: list[WebAuthnKey] = []
        if kind is not None and self._address_allowed(kind, name, client):
            keys = [
                k.value for k in await live_keys(self._recorder.records, f"{kind.value}:{name}")
            ]
        challenge = issue_challenge(
            ChallengePurpose.SIGN_IN, f"sign-in:{name}", self._fields(name, client), now
        )
        options = self._ceremonies.authentication_options(
            challenge.value, keys or [self._decoy(name, now)]
        )
        await self._recorder.records.commit(Change(challenge))
        return CeremonyOptions(challenge.id, options)

    def _decoy(self, name: str, now: float) -> WebAuthnKey:
        digest = hmac.new(self._decoy_key, name.encode("utf-8"), "sha256").digest()
        fake_id = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")  # looks real
        return WebAuthnKey(fake_id, "decoy", b"", 0, now)

    async def finish(
        self,
        name: str,
        password: Secret,
        challenge_id: str,
        assertion: str | Mapping[str, Any],
        client: IPAddress,
    ) -> SignedIn:
        now = self._recorder.clock()
        name = normal_name(name)
        try:
            return await self._finish(name, password, challenge_id, assertion, client, now)
        except WorkflowError as exc:
            facts = self._fields(name, client)
            await self._recorder.refused("sign-in", f"name:{name}", name, exc, facts)
            raise

    async def _finish(
        self,
        name: str,
        password: Secret,
        challenge_id: str,
        assertion: str | Mapping[str, Any],
        client: IPAddress,
        now: float,
    ) -> SignedIn:
        challenge = await use_challenge(
            self._recorder.records,
            challenge_id,
            ChallengePurpose.SIGN_IN,
            f"sign-in:{name}",
            self._fields(name, client),
            now,
        )
        kind = self._kind_of(name)
        identity = await self._identity(kind, name)
        # Both factors are always checked, whatever failed first: no early exit to time.
        password_error = await self._check_password(identity, password)
        keys = (
            [] if identity is None else await live_keys(self._recorder.records, identity.value.ref)
        )
        try:
            key, count = self._ceremonies.verify_authentication(
                assertion, challenge.value, [k.value for k in keys]
            )
        except AuthenticationFailedError as exc:
            key_error: AuthenticationFailedError | None = exc
        else:
            key_error = None
        if identity is None or not self._address_allowed(kind, name, client):
            raise AuthenticationFailedError(
                "identity-unknown" if identity is None else "network-denied"
            )
        if password_error is not None:
            raise password_error
        if key_error is not None:
            raise key_error
        check_can_sign_in(identity.value)
        return await self._open(identity.value, keys, key, count, client, now)

    async def _identity(
        self, kind: IdentityKind | None, name: str
    ) -> Versioned[LocalIdentity] | None:
        if kind is None:
            return None
        return await self._recorder.records.get(LocalIdentity, f"{kind.value}:{name}")

    async def _check_password(
        self, identity: Versioned[LocalIdentity] | None, password: Secret
    ) -> AuthenticationFailedError | None:
        stored = None if identity is None else identity.value.password_hash
        try:
            await asyncio.to_thread(self._passwords.verify, stored, password)
        except AuthenticationFailedError as exc:
            return exc
        return None

    async def _open(
        self,
        identity: LocalIdentity,
        keys: list[Versioned[WebAuthnKey]],
        key: WebAuthnKey,
        count: int,
        client: IPAddress,
        now: float,
    ) -> SignedIn:
        version = key_version(keys, key)
        token, session = open_console(
            identity.ref, str(client), key.key_id, now, self._policy.console_ttl
        )
        details: dict[str, JSONValue] = {"key_id": key.key_id, "client_ip": str(client)}
        await self._recorder.apply(
            [Event("sign-in", now, identity.ref, identity.name, details)],
            [Change(touch(key, count, now), version), Change(session)],
        )
        return SignedIn(token, actor_of(session), session.expires_at)

    async def actor(self, token: str, client: IPAddress) -> Actor:
        """Who holds this console session; ``AuthenticationFailedError`` if nobody (valid)."""
        session = await self._session(token, client)
        return actor_of(session.value)

    async def _session(self, token: str, client: IPAddress) -> Versioned[ConsoleSession]:
        parsed = parse_console_token(token)
        if parsed is None:
            raise AuthenticationFailedError("console-session-malformed")
        found = await self._recorder.records.get(ConsoleSession, parsed[0])
        if found is None:
            raise AuthenticationFailedError("console-session-unknown")
        check_console(found.value, parsed[1], str(client), self._recorder.clock())
        return found

    async def sign_out(self, token: str, client: IPAddress) -> None:
        found = await self._session(token, client)
        closed = close_console(found.value, self._recorder.clock())
        await self._recorder.records.commit(Change(closed, found.version))
