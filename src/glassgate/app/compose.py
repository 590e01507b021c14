"""The composition root: config -> adapters -> services, built in exactly one place.

This module is the only one that constructs the audit log (``open_audit_log``),
wires the decision sinks and observability, builds the gateway's ASGI app
(``build_gateway``) and the administrative services (``admin_services``); the
server configuration is built beside it, in ``app.server``. The CLI, the demo,
the benchmark harness and the tests call these functions; nothing else wires
services.

Where the next services plug in:

- stores (break-glass accounts, grants, the directory): opened in
  ``admin_services`` and ``build_gateway`` next to the API-key store, each
  with its own ``StoreRunner``, and kept on ``Runtime`` when the data plane
  needs them;
- the alert fan-out (``alerts`` section): built per configuration by
  ``GatewayState`` (process-wide services reach the serving one through the
  ``StateHolder``) and once in ``admin_services``, handed to every workflow
  that raises alerts (break-glass, the lockout guard, grants next);
- listeners (the console, later others): an app built here from the services
  it needs, served by ``app.server`` on its own socket in the same event loop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.adapters.alerts import build_alerts
from glassgate.adapters.audit_sinks import build_sinks
from glassgate.adapters.clock import now
from glassgate.adapters.http.asgi import GatewayApp
from glassgate.adapters.observability import Observability
from glassgate.adapters.private_files import warn_if_exposed
from glassgate.adapters.storage.api_keys import open_api_key_store
from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile, signing_key_for
from glassgate.adapters.storage.quotas import open_quota_store
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.app.breakglass import BreakglassParts
from glassgate.app.directory import open_directory
from glassgate.app.grants import GrantsDesk, open_grants
from glassgate.app.idp_signin import open_idp_sign_in
from glassgate.app.runtime import AuthenticatorFactory, Runtime
from glassgate.app.state import StateHolder
from glassgate.audit.checkpoints import CheckpointSchedule
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.audit.service import AuditLog
from glassgate.audit.settings import AuditSettings, CheckpointPlan
from glassgate.audit.verification import collect_checkpoints
from glassgate.config.audit import AuditConfig, checkpoint_paths
from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.config.load import LoadedConfig
from glassgate.config.schema import Config, LimitsConfig
from glassgate.config.storage import StorageConfig
from glassgate.errors import AuditUnavailableError
from glassgate.ports import Alerts
from glassgate.store_runner import StoreRunner
from glassgate.types import ASGIApp, Clock
from glassgate.workflows.api_keys import ApiKeyAdmin
from glassgate.workflows.directory import DirectoryService
from glassgate.workflows.grant_service import GrantService
from glassgate.workflows.scim_tokens import ScimTokens
from glassgate.workflows.service import BreakglassService

__all__ = [
    "AdminServices",
    "Console",
    "Gateway",
    "admin_services",
    "build_gateway",
    "open_audit_log",
]

_log = logging.getLogger("glassgate.audit")


def open_audit_log(
    storage: StorageConfig,
    audit: AuditConfig,
    *,
    clock: Clock = now,
    signing_key: Ed25519PrivateKey | None = None,
) -> AuditLog:
    """The one ``AuditLog`` construction: store, checkpoint key and file, sinks.

    Blocking by design (call it before serving): opens the store, migrating it
    on first start when ``storage.auto_migrate``, and loads the checkpoint
    signing key, creating it only for a log no key has signed yet
    (``CheckpointKeyError`` otherwise). ``signing_key`` is for ``audit
    rotate-key`` alone: the new key, taking over on purpose.
    ``StorageUnavailableError`` if the store is unusable.
    """
    target = StorageTarget.from_config(storage)
    settings = audit.checkpoint
    sqlite = target.location if target.backend == "sqlite" else None
    key_file, file = checkpoint_paths(settings, sqlite, None)
    written = [key_file, file]
    if sqlite is not None:
        written += [sqlite + suffix for suffix in ("", "-wal", "-shm")]
    warn_if_exposed(written)  # before anything is created: only files the operator left
    store = open_audit_store(target, migrate=storage.auto_migrate)
    try:
        checkpoint_file = CheckpointFile(file)
        plan = CheckpointPlan(
            key=signing_key
            or signing_key_for(key_file, collect_checkpoints([store, checkpoint_file])),
            schedule=CheckpointSchedule(settings.every_records, settings.every),
            logs=(checkpoint_file, store),
            to_sinks=settings.to_sinks,
        )
        sinks = build_sinks(audit.sinks, clock=clock)
    except BaseException:
        store.close()
        raise
    return AuditLog(
        store,
        clock=clock,
        settings=AuditSettings.from_config(audit),
        checkpoints=plan,
        sinks=sinks,
    )


@dataclass(frozen=True, slots=True)
class Console:
    """The console's app and the address it listens on (never the data plane's)."""

    app: ASGIApp
    listen: str


@dataclass(frozen=True, slots=True)
class Gateway:
    """Everything ``glassgate serve`` runs, not started yet (the app's lifespan starts it)."""

    holder: StateHolder
    observability: Observability
    app: ASGIApp  # the data plane: the gateway inside the observability wrapper
    console: Console | None = None  # None: console.enabled is false
    limits: LimitsConfig = field(default_factory=LimitsConfig)  # the listeners' (read at start)


def build_gateway(
    config_path: str,
    loaded: LoadedConfig,
    *,
    clock: Clock = now,
    authenticator: AuthenticatorFactory | None = None,
    audit: bool = True,
    watch: bool = True,
) -> Gateway:
    """Wire the gateway for the config at ``config_path`` (``loaded`` is its first reading).

    ``clock`` and ``authenticator`` are the test seams (a ``FrozenClock``, a fake
    IdP); ``audit=False`` runs without an audit log (the demo and the proxy
    tests); ``watch=False`` reloads on SIGHUP only.
    """
    runtime = Runtime(clock=clock) if authenticator is None else Runtime(clock, authenticator)
    config = loaded.config
    runtime.quotas = open_quota_store(config.quotas.store)  # a change takes effect on restart
    if audit:
        runtime.audit_log = open_audit_log(config.storage, config.audit, clock=clock)
    holder = StateHolder(config_path, runtime)
    if config.scim.enabled or config.directory.merge_groups.enabled:
        appender = runtime.audit_log if runtime.audit_log is not None else _NO_AUDIT
        # lockout refusals alert through the serving configuration's sinks (holder.send)
        runtime.directory = open_directory(config, appender, holder, clock)
    if config.grants.enabled:  # grant requests and approvals alert through the serving sinks
        appender = runtime.audit_log if runtime.audit_log is not None else _NO_AUDIT
        runtime.grants = open_grants(config, appender, holder, clock)
    observability = Observability(holder)
    runtime.sinks = (observability,)  # before start: every state's gate reports through it
    if runtime.audit_log is not None:
        observability.watch_audit(runtime.audit_log.counters)
    gateway = GatewayApp(holder, runtime.signer, watch=watch, audit=runtime.audit_log)
    app = observability.wrap(gateway)
    return Gateway(holder, observability, app, _console(config, holder, runtime), config.limits)


def _console(config: Config, holder: StateHolder, runtime: Runtime) -> Console | None:
    """The console, given the services it needs (more join ``ConsoleServices`` as it grows)."""
    if not config.console.enabled:
        return None
    # Imported here, not at the top: the console's web stack (Starlette, Jinja2, the SCIM
    # models) is tens of MB a gateway without a console should not carry (issue 10: RSS).
    from glassgate.web import ConsoleServices, create_console_app  # noqa: PLC0415
    from glassgate.web.scim_app import build_scim_app  # noqa: PLC0415
    from glassgate.web.throttle import SignInLimits, SignInThrottle  # noqa: PLC0415

    scim = None
    if config.scim.enabled and runtime.directory is not None:
        scim = build_scim_app(runtime.directory.service, runtime.directory.tokens, runtime.clock)
    secret = config.console.csrf_secret
    clock = holder.runtime.clock
    limits = SignInLimits.from_config(config.console.sign_in_limits)
    grants = None
    if runtime.grants is not None:
        grants = GrantsDesk(holder, runtime.grants, runtime.directory)
    idp = None
    if config.console.oidc is not None:
        appender = runtime.audit_log if runtime.audit_log is not None else _NO_AUDIT
        runtime.idp_sign_in = open_idp_sign_in(
            config, config.console.oidc, holder, runtime, appender
        )
        idp = runtime.idp_sign_in.service
    services = ConsoleServices(
        readiness=holder,
        grants=grants,
        idp_sign_in=idp,
        proxies=holder,
        breakglass=holder,
        scim=scim,
        # its own counters in memory, never the shared quota store: break-glass sign-in
        # must work while Redis is down
        throttle=SignInThrottle(MemoryQuotaStore(), limits, clock),
        clock=clock,
        csrf_secret=None if secret is None else secret.get_secret_value(),
    )
    return Console(create_console_app(services), config.console.listen)


class _NoAuditLog:
    """The directory without an audit log (``audit=False``: the demo): every write refused."""

    async def append(self, event: AuditEvent) -> AuditRecord:
        raise AuditUnavailableError("this gateway runs without an audit log; nothing was changed")


_NO_AUDIT = _NoAuditLog()


@dataclass(frozen=True, slots=True)
class AdminServices:
    """The privileged workflows an operator drives (CLI today, the console next).

    Break-glass, grant and directory workflows join here, each over its store.
    """

    api_keys: ApiKeyAdmin
    directory: DirectoryService
    scim_tokens: ScimTokens
    breakglass: BreakglassService | None = None  # None: no breakglass section
    grants: GrantService | None = None  # None: no grant types configured


@asynccontextmanager
async def admin_services(
    config: Config, *, clock: Clock = now, breakglass: CompiledBreakglass | None = None
) -> AsyncIterator[AdminServices]:
    """Open the stores and the audit log the workflows need; close them all on exit.

    ``breakglass``: the compiled section (``LoadedConfig.compiled.breakglass``),
    to open the break-glass service too.
    """
    target = StorageTarget.from_config(config.storage)
    store = open_api_key_store(target, migrate=config.storage.auto_migrate)
    runner = StoreRunner("api-key-admin")
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(store.close)
        stack.callback(runner.close)
        audit = open_audit_log(config.storage, config.audit, clock=clock)
        await audit.start()
        stack.push_async_callback(audit.close)
        alerts = build_alerts(config.alerts, clock=clock)  # lockout refusals and break-glass
        stack.push_async_callback(alerts.close)
        directory = open_directory(config, audit, alerts, clock)
        stack.push_async_callback(directory.aclose)
        service = None
        if breakglass is not None:
            service = await _admin_breakglass(config, breakglass, audit, alerts, clock, stack)
        grants = None
        if config.grants.enabled:
            opened = open_grants(config, audit, alerts, clock)
            stack.push_async_callback(opened.aclose)
            grants = opened.service_for(config)
        # the directory loads on its first change: key commands never wait for it
        yield AdminServices(
            ApiKeyAdmin(store, audit, clock, runner),
            directory.service,
            directory.tokens,
            service,
            grants,
        )


async def _admin_breakglass(
    config: Config,
    compiled: CompiledBreakglass,
    audit: AuditLog,
    alerts: Alerts,
    clock: Clock,
    stack: contextlib.AsyncExitStack,
) -> BreakglassService:
    runner = StoreRunner("workflows-admin")
    stack.callback(runner.close)
    target = StorageTarget.from_config(config.storage)
    migrate = config.storage.auto_migrate
    store = await runner.run(lambda: open_workflow_store(target, migrate=migrate))
    stack.callback(store.close)
    parts = BreakglassParts.build(config, compiled, store, runner, audit, alerts, clock)
    stack.push_async_callback(parts.aclose)
    return parts.service
