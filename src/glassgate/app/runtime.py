"""Runtime: what lives as long as the process and survives every reload.

The identity signing key, the quota counters, the IdP HTTP client, the
decision sinks (metrics, access log), the audit log, the clock and the way
IdP authenticators are made. The composition root (``app.compose``) fills it
in once, before start; tests inject the clock and the authenticator here.

Where the next process-wide services plug in: a field here, built in
``app.compose``, started in ``start`` and closed in ``aclose`` (the grant
store with its ``StoreRunner``). The break-glass workflow store
(``workflow_store``) and the directory (``directory``) are here; alerts are
per configuration (``GatewayState.alerts``), since their sinks may change on
reload: process-wide services reach them through ``StateHolder``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from glassgate.adapters.clock import now
from glassgate.adapters.http.decision_audit import DecisionAuditor
from glassgate.adapters.idp.authenticator import build_authenticator
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.errors import StorageUnavailableError
from glassgate.ports import (
    DecisionAudit,
    DecisionSink,
    IdpAuthenticator,
    QuotaStore,
    WorkflowStore,
)
from glassgate.store_runner import StoreRunner
from glassgate.tokens.downstream import IdentitySigner
from glassgate.types import Clock

if TYPE_CHECKING:
    from glassgate.app.directory import DirectoryRuntime
    from glassgate.app.grants import GrantsRuntime
    from glassgate.app.idp_signin import IdpSignInParts
    from glassgate.audit.service import AuditLog
    from glassgate.config.schema import Config

__all__ = ["AuthenticatorFactory", "Runtime"]

# Builds the IdP side of the credential path for one config (it changes on reload).
AuthenticatorFactory = Callable[["Config", "Runtime"], IdpAuthenticator]


def _idp_authenticator(config: Config, runtime: Runtime) -> IdpAuthenticator:
    """The real one: OIDC discovery, JWKS and introspection over ``runtime``'s client."""
    return build_authenticator(config, runtime.idp_client(), clock=runtime.clock)


@dataclass
class Runtime:
    """Process-wide parts that survive reloads."""

    clock: Clock = now
    authenticator: AuthenticatorFactory = _idp_authenticator
    signer: IdentitySigner = field(default_factory=lambda: IdentitySigner("glassgate"))
    quotas: QuotaStore = field(default_factory=MemoryQuotaStore)
    sinks: tuple[DecisionSink, ...] = ()
    audit_log: AuditLog | None = None
    http: httpx.AsyncClient | None = None
    workflows: WorkflowStore | None = None  # break-glass records: opened on first need
    workflow_runner: StoreRunner = field(default_factory=lambda: StoreRunner("workflows"))
    directory: DirectoryRuntime | None = None  # SCIM or merged groups: see app.directory
    grants: GrantsRuntime | None = None  # just-in-time grants: see app.grants
    idp_sign_in: IdpSignInParts | None = None  # console sign-in through the IdP

    @property
    def audit(self) -> DecisionAudit | None:
        """What the gate records every decision through (None: no audit log)."""
        return None if self.audit_log is None else DecisionAuditor(self.audit_log)

    def idp_client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self.http

    async def workflow_store(self, config: Config) -> WorkflowStore:
        """The workflow store (break-glass), opened once per process, off the event loop.

        It survives reloads; a reload that adds the ``breakglass`` section opens
        it then. ``StorageUnavailableError`` if it cannot be opened.
        """
        if self.workflows is None:
            target = StorageTarget.from_config(config.storage)
            migrate = config.storage.auto_migrate
            self.workflows = await self.workflow_runner.run(
                lambda: open_workflow_store(target, migrate=migrate)
            )
        return self.workflows

    async def start(self) -> None:
        if self.audit_log is not None:
            await self.audit_log.start()
        if self.directory is not None:
            await self.directory.start()

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        with contextlib.suppress(StorageUnavailableError):  # a store that is down: nothing to free
            await self.quotas.aclose()
        if self.directory is not None:
            await self.directory.aclose()
        if self.grants is not None:
            await self.grants.aclose()
        if self.idp_sign_in is not None:
            self.idp_sign_in.close()
        if self.audit_log is not None:
            await self.audit_log.close()
        if self.workflows is not None:
            await self.workflow_runner.run(self.workflows.close)
            self.workflows = None
        self.workflow_runner.close(wait=False)
