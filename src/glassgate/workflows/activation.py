"""Activation with dual control: request, custodian decisions, reset links (SPEC C7).

A signed-in account files a request (reason, incident reference; or a
drill). Custodians decide, each with a WebAuthn assertion over a challenge
bound to that request and that decision (``challenges``); the engine keeps
the requester out and counts each custodian once. A reset, opened by an
operator, is decided the same way, and the approval that meets its quorum
returns the one-time reset link to that custodian, once. Starting the
session once approved is ``sessions_service.Sessions.activate``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from glassgate.errors import (
    ActionForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    WorkflowError,
    WorkflowInputError,
)
from glassgate.ports import Ceremonies
from glassgate.workflows import requests
from glassgate.workflows.approvals import Approver
from glassgate.workflows.ceremony import key_version, live_keys, use_challenge
from glassgate.workflows.challenges import ChallengePurpose, issue_challenge
from glassgate.workflows.events import Event
from glassgate.workflows.identities import IdentityKind, IdentityState, LocalIdentity
from glassgate.workflows.keys import touch
from glassgate.workflows.links import LinkPurpose, issue_link
from glassgate.workflows.policy import CUSTODIAN_GROUP, BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Change, Versioned
from glassgate.workflows.requests import (
    BreakglassRequest,
    Decision,
    RequestKind,
    RequestState,
)
from glassgate.workflows.views import (
    Actor,
    CeremonyOptions,
    DecisionResult,
    IssuedLinkView,
    RequestView,
)

__all__ = ["PHISHING_RESISTANT", "Activations", "check_custodian"]

# A custodian decides with a fresh WebAuthn assertion (user verification): that is
# a phishing-resistant, hardware-bound authentication made at the moment of deciding.
PHISHING_RESISTANT = "phishing_resistant"
_OPEN = (RequestState.PENDING, RequestState.APPROVED)


def check_custodian(actor: Actor, policy: BreakglassPolicy) -> None:
    """Custodians named in the locked policy only: one removed from the file stops at once."""
    if actor.kind != IdentityKind.CUSTODIAN.value or actor.name not in policy.custodians:
        raise ActionForbiddenError("only a custodian named in breakglass.custodians can do this")


class Activations:
    def __init__(
        self, recorder: Recorder, policy: BreakglassPolicy, ceremonies: Ceremonies
    ) -> None:
        self._recorder = recorder
        self._policy = policy
        self._ceremonies = ceremonies

    def _view(self, request: BreakglassRequest) -> RequestView:
        return RequestView.of(request, self._policy.quorum, self._recorder.clock())

    async def _load(self, request_id: str) -> Versioned[BreakglassRequest]:
        found = await self._recorder.records.get(BreakglassRequest, request_id)
        if found is None:
            raise NotFoundError(f"no break-glass request {request_id[:40]!r}")
        return found

    async def _check_no_open_request(self, account: str) -> None:
        now = self._recorder.clock()
        for found in await self._recorder.records.find(BreakglassRequest, a=account):
            if found.value.state(now) in _OPEN:
                raise InvalidTransitionError(
                    found.value.state(now).value,
                    "request",
                    f"{account} already has open request {found.value.id}; "
                    "use it, wait for it to expire, or withdraw it",
                )

    async def request(
        self, actor: Actor, reason: str, incident_ref: str | None, *, drill: bool = False
    ) -> RequestView:
        """An account asks for activation (or a drill); custodians are alerted."""
        if actor.kind != IdentityKind.ACCOUNT.value or actor.name not in self._policy.accounts:
            raise ActionForbiddenError("only a break-glass account can request activation")
        if drill and self._policy.drill_route is None:
            raise WorkflowInputError("no drill route is configured (breakglass.drill_route)")
        await self._check_no_open_request(actor.name)
        kind = RequestKind.DRILL if drill else RequestKind.ACTIVATION
        scope = self._policy.recovery_routes
        if drill and self._policy.drill_route is not None:
            scope = (self._policy.drill_route,)
        return await self._file(kind, actor.name, actor.ref, reason, incident_ref, scope)

    async def open_reset(self, account: str, operator: str, reason: str) -> RequestView:
        """``glassgate breakglass reset NAME``: a reset that needs the custodian quorum."""
        identity = await self._recorder.records.get(
            LocalIdentity, f"{IdentityKind.ACCOUNT.value}:{account}"
        )
        if identity is None or identity.value.state is IdentityState.PENDING:
            raise NotFoundError(f"no enrolled break-glass account '{account[:64]}'")
        await self._check_no_open_request(account)
        return await self._file(RequestKind.RESET, account, operator, reason, None, ())

    async def _file(
        self,
        kind: RequestKind,
        account: str,
        requester: str,
        reason: str,
        incident_ref: str | None,
        scope: tuple[str, ...],
    ) -> RequestView:
        now = self._recorder.clock()
        request, events = requests.file_request(
            f"R-{secrets.token_hex(6)}",
            kind,
            account,
            requester,
            reason=reason,
            incident_ref=incident_ref,
            scope=scope,
            session_ttl=self._policy.session_ttl,
            rule=self._policy.rule,
            now=now,
            ttl=self._policy.request_ttl,
        )
        await self._recorder.apply(events, [Change(request)])
        return self._view(request)

    async def queue(self, actor: Actor) -> list[RequestView]:
        """What custodians have to decide: pending requests of every account, oldest first."""
        check_custodian(actor, self._policy)
        now = self._recorder.clock()
        found = await self._recorder.records.find(BreakglassRequest, b="pending")
        return [self._view(r.value) for r in found if r.value.state(now) is RequestState.PENDING]

    async def mine(self, actor: Actor) -> list[RequestView]:
        """An account's own requests, oldest first."""
        if actor.kind != IdentityKind.ACCOUNT.value:
            return []
        found = await self._recorder.records.find(BreakglassRequest, a=actor.name)
        return [self._view(r.value) for r in found]

    async def show(self, actor: Actor, request_id: str) -> RequestView:
        found = await self._load(request_id)
        own = actor.kind == IdentityKind.ACCOUNT.value and found.value.account == actor.name
        if not own:
            check_custodian(actor, self._policy)
        return self._view(found.value)

    async def cancel(self, actor: Actor, request_id: str) -> RequestView:
        found = await self._load(request_id)
        updated, events = requests.cancel(found.value, actor.ref, self._recorder.clock())
        await self._recorder.apply(events, [Change(updated, found.version)])
        return self._view(updated)

    async def begin_decision(
        self, actor: Actor, request_id: str, decision: Decision
    ) -> CeremonyOptions:
        """WebAuthn options whose challenge is bound to this request and this decision."""
        check_custodian(actor, self._policy)
        request = (await self._load(request_id)).value
        now = self._recorder.clock()
        state = request.state(now)
        if state is not RequestState.PENDING:
            raise InvalidTransitionError(state.value, decision.value)
        challenge = issue_challenge(
            ChallengePurpose.DECIDE, actor.ref, request.binding(decision, actor.ref), now
        )
        keys = [k.value for k in await live_keys(self._recorder.records, actor.ref)]
        options = self._ceremonies.authentication_options(challenge.value, keys)
        await self._recorder.records.commit(Change(challenge))
        return CeremonyOptions(challenge.id, options)

    async def decide(
        self,
        actor: Actor,
        request_id: str,
        decision: Decision,
        challenge_id: str,
        assertion: str | Mapping[str, Any],
    ) -> DecisionResult:
        """Approve or deny with the custodian's own key, over the challenge bound to it."""
        try:
            check_custodian(actor, self._policy)
            return await self._decide(actor, request_id, decision, challenge_id, assertion)
        except WorkflowError as exc:
            facts: dict[str, Any] = {"request_id": request_id[:64], "decision": decision.value}
            await self._recorder.refused("decision", actor.ref, "-", exc, facts)
            raise

    async def _decide(
        self,
        actor: Actor,
        request_id: str,
        decision: Decision,
        challenge_id: str,
        assertion: str | Mapping[str, Any],
    ) -> DecisionResult:
        now = self._recorder.clock()
        found = await self._load(request_id)
        binding = found.value.binding(decision, actor.ref)
        challenge = await use_challenge(
            self._recorder.records, challenge_id, ChallengePurpose.DECIDE, actor.ref, binding, now
        )
        keys = await live_keys(self._recorder.records, actor.ref)
        key, count = self._ceremonies.verify_authentication(
            assertion, challenge.value, [k.value for k in keys]
        )
        approver = Approver(
            actor.ref,
            frozenset({CUSTODIAN_GROUP}),
            frozenset({PHISHING_RESISTANT}),
            now,
            key.key_id,
        )
        updated, events = requests.decide(found.value, approver, decision, now)
        changes = [
            Change(updated, found.version),
            Change(touch(key, count, now), key_version(keys, key)),
        ]
        link: IssuedLinkView | None = None
        if updated.kind is RequestKind.RESET and updated.state(now) is RequestState.APPROVED:
            updated, more, link, link_change = self._issue_reset_link(updated, now)
            events = (*events, *more)
            changes[0] = Change(updated, found.version)
            changes.append(link_change)
        await self._recorder.apply(events, changes)
        return DecisionResult(self._view(updated), link)

    def _issue_reset_link(
        self, request: BreakglassRequest, now: float
    ) -> tuple[BreakglassRequest, tuple[Event, ...], IssuedLinkView, Change]:
        fulfilled, events = requests.fulfil(request, now)
        ref = f"{IdentityKind.ACCOUNT.value}:{request.account}"
        issued = issue_link(LinkPurpose.RESET, ref, now, request_id=request.id)
        view = IssuedLinkView(ref, LinkPurpose.RESET.value, issued.token, issued.link.expires_at)
        return fulfilled, events, view, Change(issued.link)
