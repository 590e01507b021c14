"""Break-glass wiring: the service and the data-plane door, from one config.

``BreakglassParts.build`` makes, for one configuration, the
``BreakglassService`` over the process-wide workflow store (opened once by
``Runtime.workflow_store``) and the ``BreakglassDoor`` the gate consults for
``ggbg_`` sessions. ``start`` runs the sweeper that records session and
request expiry (and finishes drills); ``aclose`` stops it. The store and its
runner belong to the ``Runtime``; the alert fan-out (the ``alerts`` section,
shared with the directory's lockout guard) to whoever built it
(``GatewayState``, ``admin_services``).

``record_policy_change`` is the reload rule of SPEC C7: a new configuration
that changes the locked policy is a privileged audit event naming what
changed, written before the swap; if it cannot be written the reload is
refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from glassgate.adapters.credentials.passwords import Argon2Parameters, PasswordHasher
from glassgate.adapters.credentials.webauthn import RelyingParty, WebAuthnCeremonies
from glassgate.adapters.http.breakglass import BreakglassDoor
from glassgate.alerts import Alert, Severity
from glassgate.audit.records import AuditEvent
from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.config.breakglass_diff import breakglass_changes
from glassgate.config.load import LoadedConfig
from glassgate.config.schema import Config
from glassgate.errors import GlassgateError
from glassgate.ports import Alerts, AuditAppender, WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.types import Clock
from glassgate.workflows.policy import RUNBOOK
from glassgate.workflows.service import BreakglassService

__all__ = ["SWEEP_EVERY", "BreakglassParts", "record_policy_change"]

SWEEP_EVERY = 15.0  # seconds between two sweeps for expired sessions and requests
_log = logging.getLogger("glassgate.breakglass")


@dataclass
class BreakglassParts:
    service: BreakglassService
    door: BreakglassDoor
    _sweeper: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        config: Config,
        compiled: CompiledBreakglass,
        store: WorkflowStore,
        runner: StoreRunner,
        audit: AuditAppender,
        alerts: Alerts,
        clock: Clock,
    ) -> BreakglassParts:
        """``ValueError`` when ``config`` has no breakglass section."""
        section = config.breakglass
        if section is None:
            raise ValueError("the configuration has no breakglass section")
        argon2, webauthn = section.argon2, section.webauthn
        service = BreakglassService(
            compiled.policy,
            store,
            audit,
            alerts,
            PasswordHasher(
                Argon2Parameters(argon2.time_cost, argon2.memory_cost, argon2.parallelism)
            ),
            WebAuthnCeremonies(RelyingParty(webauthn.rp_id, webauthn.rp_name, webauthn.origins)),
            clock,
            runner,
        )
        return cls(service, BreakglassDoor(compiled, service.sessions, audit))

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="glassgate-breakglass-sweep")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.service.sessions.sweep()
            except GlassgateError as exc:  # the next sweep tries again
                _log.error("break-glass sweep failed: %s", exc)

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None


async def record_policy_change(
    old: LoadedConfig,
    new: LoadedConfig,
    audit: AuditAppender | None,
    alerts: Alerts,
    *,
    path: str,
    clock: Clock,
) -> list[str]:
    """Audit (durably, before the swap) what a reload changes in the locked policy.

    Returns the changed keys (empty: nothing to record). Raises
    ``AuditUnavailableError`` when the record cannot be written: the caller
    then keeps the old configuration.
    """
    changed = breakglass_changes(
        old.config, old.compiled.breakglass, new.config, new.compiled.breakglass
    )
    if not changed:
        return changed
    now = clock()
    if audit is None:
        _log.warning("break-glass policy changed without an audit log: %s", ", ".join(changed))
        return changed
    await audit.append(
        AuditEvent(
            type="breakglass.policy.changed",
            outcome="ok",
            at=now,
            actor="config:reload",
            details={"file": path[:256], "changed": changed[:100]},
        )
    )
    summary = f"break-glass policy changed by a config reload ({len(changed)} key(s))"
    await alerts.send(
        Alert(
            "breakglass.policy.changed",
            Severity.WARNING,
            summary,
            now,
            {"changed": changed[:100]},
            RUNBOOK,
        )
    )
    return changed
