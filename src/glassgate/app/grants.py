"""Just-in-time grants in a glassgate process: the policy, the store, the live index.

Built by the composition root when ``grants.types`` is not empty, for the
gateway (``GrantsRuntime`` on ``Runtime``: the index the gate's enricher reads,
refreshed from the shared database every ``grants.refresh_interval``) and for
the CLI's ``grants`` commands. The grant policy follows reloads: the service
is built per call from the serving configuration (``service_for``), over the
one store and index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.app.directory import DirectoryRuntime, merged_groups
from glassgate.app.state import StateHolder
from glassgate.config.grants import GrantApprovalConfig, added_group
from glassgate.config.schema import Config
from glassgate.config.strength import strength_levels
from glassgate.core.criteria.auth_strength import StrengthLevel, meets
from glassgate.core.principal import Principal
from glassgate.errors import GlassgateError
from glassgate.ports import Alerts, AuditAppender, WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.types import Clock
from glassgate.workflows.approvals import ApprovalRule, Approver, Requirement
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grant_service import GrantCaller, GrantPolicy, GrantService, Requester
from glassgate.workflows.grants import GrantType, person_id
from glassgate.workflows.records import Records

__all__ = [
    "GrantsDesk",
    "GrantsRuntime",
    "approver_of",
    "grant_policy",
    "open_grants",
    "requester_of",
]

_log = logging.getLogger("glassgate.grants")


def _rule(approval: GrantApprovalConfig) -> ApprovalRule:
    alternatives = tuple(
        tuple(Requirement(r.group, r.count) for r in alternative) for alternative in approval.any_of
    )
    return ApprovalRule(alternatives, approval.strength, approval.max_auth_age)


def grant_policy(config: Config) -> GrantPolicy:
    section = config.grants
    types = {
        t.id: GrantType(
            t.id,
            added_group(t),
            t.max_duration,
            frozenset(t.requesters),
            _rule(t.approval),
            t.alerts.on_request,
            t.alerts.on_approval,
        )
        for t in section.types
    }
    acr = {name: level.acr for name, level in levels_of(config).items() if level is not None}
    return GrantPolicy(types, frozenset(section.admins), section.request_ttl, acr)


def requester_of(principal: Principal) -> Requester:
    return Requester(principal.issuer, principal.subject, principal.groups)


def approver_of(principal: Principal, levels: Mapping[str, StrengthLevel | None]) -> Approver:
    """An IdP user deciding: their groups, the strength levels their token meets, auth_time."""
    strengths = frozenset(
        name for name, level in levels.items() if level is None or meets(principal, level)
    )
    return Approver(
        person_id(principal.issuer, principal.subject),
        principal.groups,
        strengths,
        None if principal.auth_time is None else float(principal.auth_time),
    )


def levels_of(config: Config) -> dict[str, StrengthLevel | None]:
    return strength_levels(config.auth_strength)


@dataclass
class GrantsRuntime:
    """The grant store, its runner and the live index; one per process."""

    store: WorkflowStore
    runner: StoreRunner
    index: GrantGroups
    audit: AuditAppender
    alerts: Alerts
    clock: Clock
    refresh_interval: float
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _fresh_at: float | None = field(default=None, repr=False)  # the last refresh that worked
    _dropped: bool = field(default=False, repr=False)

    @property
    def stale_after(self) -> float:
        """How old the index may grow while the database cannot be read (then: no grant counts).

        Three missed refreshes: one failed read is no reason to take grants away,
        but a grant revoked on another instance must not keep working for hours.
        """
        return 3 * self.refresh_interval

    def service_for(self, config: Config) -> GrantService:
        records = Records(self.store, self.runner)
        policy = grant_policy(config)
        return GrantService(policy, records, self.audit, self.alerts, self.clock, self.index)

    async def refresh(self, config: Config) -> None:
        """Rebuild the index from the database, unless this instance changed a grant meanwhile."""
        before = self.index.changes
        found = await self.service_for(config).active()
        now = self.clock()
        if self.index.changes == before:
            self.index.replace_all(found, now)
        self._fresh_at, self._dropped = now, False

    async def follow_once(self, config: Config) -> None:
        """One refresh of the loop; a failure keeps the index only while it is fresh enough.

        Fail closed: once the last good refresh is older than ``stale_after``,
        every granted group is dropped (a revocation made elsewhere may be in
        the rows this instance cannot read) until a refresh works again.
        Grants this instance changes meanwhile still take effect (``put``).
        """
        try:
            await self.refresh(config)
        except Exception as exc:  # noqa: BLE001 - any failure: the loop must go on
            code = exc.code if isinstance(exc, GlassgateError) else type(exc).__name__
            now = self.clock()
            fresh_at = self._fresh_at
            if fresh_at is not None and now - fresh_at <= self.stale_after:
                _log.warning("grants refresh failed (%s): %s; keeping the last index", code, exc)
                return
            if not self._dropped:
                self.index.replace_all((), now)
                self._dropped = True
            _log.error(
                "grants refresh failed (%s): %s; no grant counts until the database "
                "can be read again",
                code,
                exc,
            )

    async def start(self, current: Callable[[], Config]) -> None:
        await self.refresh(current())
        self._task = asyncio.create_task(self._follow(current), name="glassgate-grants-refresh")

    async def _follow(self, current: Callable[[], Config]) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            await self.follow_once(current())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.store.close()
        self.runner.close()


class GrantsDesk:
    """``ports.GrantsSource`` over the serving state: its config, its IdP authenticator."""

    def __init__(
        self, holder: StateHolder, grants: GrantsRuntime, directory: DirectoryRuntime | None
    ) -> None:
        self._holder = holder
        self._grants = grants
        self._directory = directory

    def grant_service(self) -> GrantService | None:
        config = self._holder.state.loaded.config
        return self._grants.service_for(config) if config.grants.enabled else None

    async def caller(self, raw_token: str) -> GrantCaller:
        state = self._holder.state
        principal = await state.authenticator.authenticate(raw_token, self._grants.clock())
        return self.caller_of(principal)

    def caller_of(self, principal: Principal) -> GrantCaller:
        config = self._holder.state.loaded.config
        merged = merged_groups(config, self._directory)
        if merged is not None:
            principal = merged.enrich(principal, self._grants.clock())
        return GrantCaller(requester_of(principal), approver_of(principal, levels_of(config)))


def open_grants(
    config: Config, audit: AuditAppender, alerts: Alerts, clock: Clock
) -> GrantsRuntime:
    """Open the workflow store for grants (migrating it when ``storage.auto_migrate``)."""
    target = StorageTarget.from_config(config.storage)
    store = open_workflow_store(target, migrate=config.storage.auto_migrate)
    runner = StoreRunner("grants")
    return GrantsRuntime(
        store,
        runner,
        GrantGroups(),
        audit,
        alerts,
        clock,
        config.grants.refresh_interval,
    )
