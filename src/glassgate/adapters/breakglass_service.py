"""Wiring of the break-glass service from a configuration: store, alerts, credentials.

``open_breakglass`` opens (and migrates, per ``storage.auto_migrate``) the
workflow store, builds the alert fan-out from ``alerts``, the argon2id hasher
from ``breakglass.argon2`` and the WebAuthn relying party from
``breakglass.webauthn``, and returns a ``BreakglassService`` whose policy is
the compiled ``breakglass`` section. The gateway, the console and the CLI
all come through here, so they all see the same policy and the same records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from glassgate.adapters.alerts import AlertFanout, build_alerts
from glassgate.adapters.credentials.passwords import Argon2Parameters, PasswordHasher
from glassgate.adapters.credentials.webauthn import RelyingParty, WebAuthnCeremonies
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.config.schema import Config
from glassgate.workflows.recorder import AuditAppender
from glassgate.workflows.service import BreakglassService

__all__ = ["BreakglassParts", "open_breakglass"]


@dataclass
class BreakglassParts:
    """The service and what must be closed with it."""

    service: BreakglassService
    alerts: AlertFanout

    async def aclose(self) -> None:
        await self.service.aclose()
        await self.alerts.close()


async def open_breakglass(
    config: Config,
    compiled: CompiledBreakglass,
    audit: AuditAppender,
    *,
    clock: Callable[[], float],
) -> BreakglassParts:
    """Raises ``StorageUnavailableError`` when the store cannot be opened."""
    section = config.breakglass
    if section is None:
        raise ValueError("the configuration has no breakglass section")
    target = StorageTarget.from_config(config.storage)
    store = await asyncio.to_thread(
        open_workflow_store, target, migrate=config.storage.auto_migrate
    )
    alerts = build_alerts(config.alerts, clock=clock)
    argon2 = section.argon2
    webauthn = section.webauthn
    service = BreakglassService(
        compiled.policy,
        store,
        audit,
        alerts,
        PasswordHasher(Argon2Parameters(argon2.time_cost, argon2.memory_cost, argon2.parallelism)),
        WebAuthnCeremonies(RelyingParty(webauthn.rp_id, webauthn.rp_name, webauthn.origins)),
        clock,
    )
    return BreakglassParts(service, alerts)
