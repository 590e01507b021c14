"""Enrolment and rotation of local identities through one-time links (SPEC C7).

``create`` makes a break-glass account or a custodian named in the locked
policy and returns its one-time enrolment link (one hour, once). ``begin``
and ``finish`` are the two halves of the page behind a link: WebAuthn
registration options bound to the link, then password + registered key in
one step. The same two halves serve a quorum-approved reset link: there the
password must change and every older key is retired, so after a rotation
only the new factors work.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from glassgate.errors import (
    AuthenticationFailedError,
    InvalidTransitionError,
    LinkInvalidError,
    WorkflowError,
    WorkflowInputError,
)
from glassgate.ports import Ceremonies, Passwords
from glassgate.types import JSONValue, Secret
from glassgate.workflows import identities
from glassgate.workflows.ceremony import live_keys, use_challenge
from glassgate.workflows.challenges import ChallengePurpose, issue_challenge
from glassgate.workflows.events import Event
from glassgate.workflows.identities import IdentityKind, IdentityState, LocalIdentity
from glassgate.workflows.keys import WebAuthnKey, retire
from glassgate.workflows.links import (
    LinkPurpose,
    OneTimeLink,
    check_usable,
    issue_link,
    link_digest,
    redeem,
    retire_link,
)
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Change, Versioned
from glassgate.workflows.views import CeremonyOptions, EnrolmentStart, IssuedLinkView

__all__ = ["NAME_PATTERN", "Enrolment"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class Enrolment:
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

    def _check_configured(self, kind: IdentityKind, name: str) -> None:
        if not NAME_PATTERN.match(name):
            raise WorkflowInputError(
                "a name is 1-63 lower-case letters, digits, '.', '_' or '-', starting with one"
            )
        listed = self._policy.accounts if kind is IdentityKind.ACCOUNT else self._policy.custodians
        if name not in listed:
            key = "breakglass.accounts" if kind is IdentityKind.ACCOUNT else "breakglass.custodians"
            raise WorkflowInputError(
                f"'{name}' is not listed in {key}; the break-glass policy lives in the config "
                "file only: add it there, reload, then create it"
            )

    async def create(self, kind: IdentityKind, name: str, operator: str) -> IssuedLinkView:
        """A new identity (or a fresh link for one still pending) and its enrolment link."""
        self._check_configured(kind, name)
        now = self._recorder.clock()
        ref = f"{kind.value}:{name}"
        found = await self._recorder.records.get(LocalIdentity, ref)
        changes: list[Change] = []
        if found is None:
            identity = identities.new_identity(kind, name, operator, now)
            changes.append(Change(identity))
        elif found.value.state is IdentityState.PENDING:
            identity = found.value
            changes.extend(await self._retire_links(ref, now))
        else:
            raise InvalidTransitionError(
                found.value.state.value,
                "create",
                f"{ref} already exists ({found.value.state.value}); use a quorum reset instead",
            )
        issued = issue_link(LinkPurpose.ENROL, ref, now)
        changes.append(Change(issued.link))
        details: dict[str, JSONValue] = {"identity": ref, "link_expires_at": issued.link.expires_at}
        name_ = "identity.created" if found is None else "identity.link-issued"
        await self._recorder.apply([Event(name_, now, operator, identity.name, details)], changes)
        return IssuedLinkView(ref, "enrol", issued.token, issued.link.expires_at)

    async def _retire_links(self, ref: str, now: float) -> list[Change]:
        """Older unused enrolment links of a pending identity stop working."""
        links = await self._recorder.records.find(OneTimeLink, a=ref)
        return [
            Change(retire_link(link.value, now), link.version)
            for link in links
            if link.value.used_at is None and now < link.value.expires_at
        ]

    async def _link(
        self, token: str, now: float
    ) -> tuple[Versioned[OneTimeLink], Versioned[LocalIdentity]]:
        found = await self._recorder.records.get(OneTimeLink, link_digest(token))
        if found is None:
            raise LinkInvalidError("link-unknown")
        link = found.value
        check_usable(link, token, link.purpose, now)
        identity = await self._recorder.records.get(LocalIdentity, link.identity)
        if identity is None:
            raise LinkInvalidError("link-identity-missing")
        return found, identity

    async def begin(self, token: str) -> EnrolmentStart:
        """Registration options for the holder of a valid enrolment or reset link."""
        now = self._recorder.clock()
        found, versioned = await self._link(token, now)
        link, identity = found.value, versioned.value
        challenge = issue_challenge(
            ChallengePurpose.ENROL, link.digest, {"identity": identity.ref}, now
        )
        existing = [] if link.purpose is LinkPurpose.RESET else await self._keys(identity.ref)
        options = self._ceremonies.registration_options(
            identity.ref, identity.name, challenge.value, existing
        )
        await self._recorder.records.commit(Change(challenge))
        ceremony = CeremonyOptions(challenge.id, options)
        return EnrolmentStart(identity.ref, link.purpose.value, link.expires_at, ceremony)

    async def _keys(self, ref: str) -> list[WebAuthnKey]:
        return [key.value for key in await live_keys(self._recorder.records, ref)]

    async def finish(
        self,
        token: str,
        challenge_id: str,
        password: Secret,
        credential: str | Mapping[str, Any],
    ) -> str:
        """Set the password and register the key, both at once; returns the identity ref."""
        now = self._recorder.clock()
        try:
            found, identity = await self._link(token, now)
            return await self._finish(
                token, found, identity, challenge_id, password, credential, now
            )
        except WorkflowError as exc:
            await self._recorder.refused("identity.enrol", "link", "-", exc)
            raise

    async def _finish(
        self,
        token: str,
        found: Versioned[OneTimeLink],
        current: Versioned[LocalIdentity],
        challenge_id: str,
        password: Secret,
        credential: str | Mapping[str, Any],
        now: float,
    ) -> str:
        link, identity = found.value, current.value
        challenge = await use_challenge(
            self._recorder.records,
            challenge_id,
            ChallengePurpose.ENROL,
            link.digest,
            {"identity": identity.ref},
            now,
        )
        key = self._ceremonies.verify_registration(identity.ref, credential, challenge.value, now)
        if link.purpose is LinkPurpose.RESET:
            await self._refuse_same_password(identity, password)
        password_hash = await asyncio.to_thread(self._passwords.hash, password)
        if link.purpose is LinkPurpose.ENROL:
            updated = identities.complete_enrolment(current.value, password_hash, now)
            retired: list[Change] = []
        else:
            updated = identities.rotate(current.value, password_hash, now)
            retired = [
                Change(retire(old.value, now), old.version)
                for old in await live_keys(self._recorder.records, identity.ref)
            ]
        name = "identity.enrolled" if link.purpose is LinkPurpose.ENROL else "identity.rotated"
        details: dict[str, JSONValue] = {
            "identity": identity.ref,
            "key_id": key.key_id,
            "device_type": key.device_type,
            "retired_keys": len(retired),
        }
        changes = [
            Change(updated, current.version),
            Change(redeem(link, token, link.purpose, now), found.version),
            Change(key),
            *retired,
        ]
        await self._recorder.apply(
            [Event(name, now, identity.ref, identity.name, details)], changes
        )
        return identity.ref

    async def _refuse_same_password(self, identity: LocalIdentity, password: Secret) -> None:
        try:
            await asyncio.to_thread(self._passwords.verify, identity.password_hash, password)
        except AuthenticationFailedError:
            return  # it differs: good
        raise WorkflowInputError("a rotation needs a new password, not the old one")
