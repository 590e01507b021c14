"""GrantService: request, approve, deny, revoke and read just-in-time grants (issue 13).

The one API of grants for the console, ``POST /api/grants`` and the CLI. Every
state change follows the workflows' rule: the transition is computed (pure,
``workflows.grants``), its events are written to the audit log as privileged
records *before* anything is saved (``AuditUnavailableError``: nothing
happened), the grant is committed (``ConcurrentChangeError`` if someone
changed it meanwhile), this instance's ``GrantGroups`` learns it at once, and
only then are alerts sent (never required: a grant is not an emergency).
Refused moves (self-approval, a second vote, a weak sign-in) are audited too,
best effort, with outcome ``refused``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from glassgate.alerts import Alert, Severity
from glassgate.audit.records import AuditEvent
from glassgate.errors import (
    ApprovalRefusedError,
    AuditUnavailableError,
    NotFoundError,
    StepUpRequiredError,
    WorkflowError,
)
from glassgate.ports import Alerts, AuditAppender
from glassgate.types import Clock
from glassgate.workflows import grants
from glassgate.workflows.approvals import Approver
from glassgate.workflows.events import Event
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grants import Grant, GrantState, GrantType, person_id
from glassgate.workflows.records import Change, Records, Versioned

__all__ = ["GrantCaller", "GrantPolicy", "GrantService", "Requester"]

_log = logging.getLogger("glassgate.grants")
_ALERTS = {
    "grant.requested": "grant: {subject} asks for {group} ({grant_type}) for {duration}s",
    "grant.quorum-met": "grant: {subject} has {group} until it ends or is revoked ({grant_id})",
}


@dataclass(frozen=True, slots=True)
class GrantPolicy:
    """The ``grants`` section, compiled: the types by id, the admin groups, the request TTL."""

    types: Mapping[str, GrantType]
    admins: frozenset[str] = frozenset()
    request_ttl: float = 3600.0
    acr_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # per strength level


@dataclass(frozen=True, slots=True)
class Requester:
    """An IdP user asking for a grant: issuer, subject and the groups that make them eligible."""

    issuer: str
    subject: str
    groups: frozenset[str]

    @property
    def id(self) -> str:
        return person_id(self.issuer, self.subject)


@dataclass(frozen=True, slots=True)
class GrantCaller:
    """One verified IdP caller, as a requester and as an approver (same id, same groups)."""

    requester: Requester
    approver: Approver


def _audit_event(event: Event, outcome: str = "ok") -> AuditEvent:
    return AuditEvent(
        type=event.name,
        outcome=outcome,
        at=event.at,
        subject=event.subject,
        actor=event.actor,
        privileged=True,
        details=event.details,
    )


class GrantService:
    def __init__(
        self,
        policy: GrantPolicy,
        records: Records,
        audit: AuditAppender,
        alerts: Alerts,
        clock: Clock,
        index: GrantGroups,
    ) -> None:
        self.policy = policy
        self._records = records
        self._audit = audit
        self._alerts = alerts
        self.clock = clock
        self._index = index

    # --- reads -------------------------------------------------------------------------

    async def get(self, grant_id: str) -> Grant:
        return (await self._load(grant_id)).value

    async def grants(self, state: GrantState | None = None) -> list[Grant]:
        """Every grant (or those in ``state`` now), oldest first."""
        found = [v.value for v in await self._records.find(Grant)]
        now = self.clock()
        return [g for g in found if state is None or g.state(now) is state]

    async def mine(self, requester: Requester) -> list[Grant]:
        return [v.value for v in await self._records.find(Grant, a=requester.id)]

    async def queue(self, approver: Approver) -> list[Grant]:
        """Pending grants ``approver`` could decide: in the rule's groups, not their own."""
        now = self.clock()
        return [
            g
            for g in await self.grants(GrantState.PENDING)
            if g.requester != approver.id
            and approver.id not in g.approval.approvers()
            and not approver.groups.isdisjoint(g.approval.rule.groups)
            and g.state(now) is GrantState.PENDING
        ]

    async def active(self) -> list[Grant]:
        """Approved grants not revoked (ended ones included): what refreshes ``GrantGroups``."""
        return [v.value for v in await self._records.find(Grant, b="approved")]

    # --- changes -----------------------------------------------------------------------

    async def request(
        self,
        type_id: str,
        requester: Requester,
        reason: str,
        duration: float,
        group: str | None = None,
    ) -> Grant:
        kind = self.policy.types.get(type_id)
        now = self.clock()
        if kind is None:
            known = ", ".join(sorted(self.policy.types)) or "none"
            raise NotFoundError(f"no grant type '{type_id}' (known: {known})")
        grant_id = "gr_" + secrets.token_urlsafe(12)
        who = (requester.issuer, requester.subject, requester.groups)
        try:
            grant, events = grants.file_grant(
                grant_id,
                kind,
                who,
                reason=reason,
                duration=duration,
                now=now,
                ttl=self.policy.request_ttl,
                group=group,
            )
        except WorkflowError as exc:
            details = {"grant_type": type_id, "issuer": requester.issuer}
            await self._refused("grant.request", requester.id, requester.subject, exc, details)
            raise
        await self._apply(grant, None, events, kind.alert_on_request)
        return grant

    async def approve(self, grant_id: str, approver: Approver) -> Grant:
        return await self._decide(grant_id, approver, approve=True)

    async def deny(self, grant_id: str, approver: Approver) -> Grant:
        return await self._decide(grant_id, approver, approve=False)

    async def revoke(self, grant_id: str, actor: Approver, *, operator: bool = False) -> Grant:
        """End a grant now (a pending one is withdrawn; only its requester may).

        ``operator``: the CLI, run by whoever holds the configuration and the
        database, may revoke any active grant.
        """
        stored = await self._load(grant_id)
        grant = stored.value
        admins = grant.approval.rule.groups | self.policy.admins
        may = operator or not actor.groups.isdisjoint(admins)
        try:
            updated, events = grants.revoke(grant, actor.id, may, self.clock())
        except WorkflowError as exc:
            await self._refused(
                "grant.revoke", actor.id, grant.subject, exc, {"grant_id": grant_id}
            )
            raise
        await self._apply(updated, stored.version, events, alert=False)
        return updated

    async def _decide(self, grant_id: str, approver: Approver, *, approve: bool) -> Grant:
        stored = await self._load(grant_id)
        grant = stored.value
        move = grants.approve if approve else grants.deny
        try:
            updated, events = move(grant, approver, self.clock())
        except WorkflowError as exc:
            action = "grant.approve" if approve else "grant.deny"
            await self._refused(action, approver.id, grant.subject, exc, {"grant_id": grant_id})
            raise self._step_up(grant, exc) from None
        kind = self.policy.types.get(grant.type_id)
        alert = kind is None or kind.alert_on_approval
        await self._apply(updated, stored.version, events, alert)
        return updated

    def _step_up(self, grant: Grant, exc: WorkflowError) -> WorkflowError:
        """A too weak or too old approver sign-in becomes an RFC 9470 step-up (401)."""
        reason = exc.reason if isinstance(exc, ApprovalRefusedError) else None
        if reason not in ("strength-insufficient", "auth-age-expired"):
            return exc
        rule = grant.approval.rule
        acr = () if rule.strength is None else self.policy.acr_values.get(rule.strength, ())
        age = None if rule.max_auth_age is None else int(rule.max_auth_age)
        return StepUpRequiredError(str(reason), str(exc), acr, age)

    async def _load(self, grant_id: str) -> Versioned[Grant]:
        found = await self._records.get(Grant, grant_id) if grant_id else None
        if found is None:
            raise NotFoundError(f"no grant '{grant_id[:64]}'")
        return found

    async def _apply(
        self, grant: Grant, previous: int | None, events: Sequence[Event], alert: bool
    ) -> None:
        for event in events:  # durable first: AuditUnavailableError and nothing happened
            await self._audit.append(_audit_event(event))
        await self._records.commit(Change(grant, previous))
        self._index.put(grant, self.clock())  # this instance: at once, before any alert
        if alert:
            for event in events:
                template = _ALERTS.get(event.name)
                if template is not None:
                    await self._alerts.send(_alert(event, template))

    async def _refused(
        self,
        name: str,
        actor: str,
        subject: str,
        error: WorkflowError,
        details: Mapping[str, str],
    ) -> None:
        facts = {**details, "error": error.code}
        reason = getattr(error, "reason", None)
        if isinstance(reason, str):
            facts["detail"] = reason
        event = Event(name, self.clock(), actor, subject, facts)
        try:
            await self._audit.append(_audit_event(event, outcome="refused"))
        except AuditUnavailableError:
            _log.error("the refusal of %s by %s could not be audited", name, actor)


def _alert(event: Event, template: str) -> Alert:
    values = {key: str(value) for key, value in event.details.items()}
    values.update(subject=event.subject, actor=event.actor)
    summary = template.format_map(values)[:300]
    return Alert(event.name, Severity.WARNING, summary, event.at, event.details)
