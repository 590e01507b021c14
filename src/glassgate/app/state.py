"""GatewayState (everything built from one config) and StateHolder (reload by swap).

A reload builds a complete new state, starts it, and swaps it in only when
that all succeeded, so a bad config never replaces a good one and in-flight
requests finish on the state they started with. Per-config parts that the
coming features add (their compiled rules, their per-config caches) are fields
of ``GatewayState``, built in ``build``, started in ``start``, closed in
``aclose``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from glassgate.adapters.alerts import AlertFanout, build_alerts
from glassgate.adapters.http.breakglass import BreakglassDoor
from glassgate.adapters.http.gate import Gate
from glassgate.adapters.http.inbound import Inbound, Network
from glassgate.adapters.http.upstreams import Upstream, build_upstreams
from glassgate.adapters.idp.api_keys import ApiKeyAuthenticator, build_api_key_authenticator
from glassgate.adapters.idp.credentials import CredentialRouter
from glassgate.alerts import Alert
from glassgate.app.breakglass import BreakglassParts, record_policy_change
from glassgate.app.directory import guard_of, merged_groups
from glassgate.app.runtime import Runtime
from glassgate.config.load import LoadedConfig, load_config
from glassgate.config.schema import Config
from glassgate.errors import AuditUnavailableError, ConfigError, GlassgateError
from glassgate.ports import IdpAuthenticator, PrincipalEnricher, WorkflowStore
from glassgate.workflows.service import BreakglassService

__all__ = ["GatewayState", "StateHolder"]

log = logging.getLogger("glassgate")

_READY_TIMEOUT = 15.0
_CLOSE_OLD_AFTER = 30.0  # seconds: in-flight requests on the old state finish first
_NO_SINKS = AlertFanout(())  # alerts while no configuration serves: logged only


@dataclass
class GatewayState:
    """Everything built from one configuration."""

    loaded: LoadedConfig
    gate: Gate
    inbound: Inbound
    upstreams: dict[str, Upstream]
    authenticator: IdpAuthenticator
    alerts: AlertFanout  # the alerts section's sinks: break-glass and the lockout guard
    api_keys: ApiKeyAuthenticator | None = None  # None: api_keys.enabled is false
    breakglass: BreakglassParts | None = None  # None: no breakglass section

    @classmethod
    def build(
        cls, loaded: LoadedConfig, runtime: Runtime, workflows: WorkflowStore | None = None
    ) -> GatewayState:
        """``workflows``: the workflow store, opened beforehand when break-glass is on."""
        config, compiled = loaded.config, loaded.compiled
        authenticator = runtime.authenticator(config, runtime)
        api_keys = build_api_key_authenticator(config, frozenset(compiled.quota_tiers))
        alerts = build_alerts(config.alerts, clock=runtime.clock)
        breakglass = _breakglass(loaded, runtime, workflows, alerts)
        gate = Gate(
            compiled.policy,
            CredentialRouter(authenticator, api_keys),  # gg_ keys never reach the IdP path
            runtime.quotas,
            dict(compiled.quota_tiers),
            runtime.clock,
            runtime.sinks,
            runtime.audit,
            breakglass.door if breakglass is not None else None,
            _enrichers(config, runtime),
        )
        inbound = Inbound(
            trusted_proxies=compiled.trusted_proxies,
            max_header_bytes=config.limits.max_header_bytes,
            max_token_bytes=config.limits.max_token_bytes,
            door_peers=compiled.forward_auth_peers,
            breakglass_cookie=breakglass is not None,
        )
        upstreams = build_upstreams(config.upstreams)
        return cls(loaded, gate, inbound, upstreams, authenticator, alerts, api_keys, breakglass)

    async def start(self) -> None:
        if self.api_keys is not None:  # first: an unusable key store fails the start
            await self.api_keys.start()
        await self.authenticator.start()
        for upstream in self.upstreams.values():
            upstream.start()
        if self.breakglass is not None:
            self.breakglass.start()

    @property
    def ready(self) -> bool:
        return self.authenticator.ready

    @property
    def breakglass_door(self) -> BreakglassDoor | None:
        return None if self.breakglass is None else self.breakglass.door

    async def aclose(self) -> None:
        await self.authenticator.aclose()
        if self.api_keys is not None:
            await self.api_keys.aclose()
        for upstream in self.upstreams.values():
            await upstream.aclose()
        if self.breakglass is not None:
            await self.breakglass.aclose()
        await self.alerts.close()


def _breakglass(
    loaded: LoadedConfig, runtime: Runtime, workflows: WorkflowStore | None, alerts: AlertFanout
) -> BreakglassParts | None:
    compiled = loaded.compiled.breakglass
    if compiled is None:
        return None
    if runtime.audit_log is None or workflows is None:
        raise ValueError(
            "break-glass needs the audit log and the workflow store: every use is audited"
        )
    return BreakglassParts.build(
        loaded.config,
        compiled,
        workflows,
        runtime.workflow_runner,
        runtime.audit_log,
        alerts,
        runtime.clock,
    )


async def _workflows(loaded: LoadedConfig, runtime: Runtime) -> WorkflowStore | None:
    if loaded.config.breakglass is None:
        return None
    return await runtime.workflow_store(loaded.config)


def _enrichers(config: Config, runtime: Runtime) -> tuple[PrincipalEnricher, ...]:
    """What the gate adds to verified principals: merged directory groups, then grants.

    Grants are on when the gateway started with ``grants.types``; a reload that
    removes every type stops adding grant groups at once.
    """
    merged = merged_groups(config, runtime.directory)
    found: list[PrincipalEnricher] = [] if merged is None else [merged]
    if runtime.grants is not None and config.grants.enabled:
        found.append(runtime.grants.index)
    return tuple(found)


class StateHolder:
    """Holds the current state; ``reload`` swaps atomically or keeps the old one."""

    def __init__(self, path: str, runtime: Runtime) -> None:
        self.path = path
        self.runtime = runtime
        self._state: GatewayState | None = None
        self._lock = asyncio.Lock()
        self.reloads_ok = 0  # read by metrics at scrape time
        self.reloads_failed = 0

    @property
    def state(self) -> GatewayState:
        if self._state is None:
            raise RuntimeError("the gateway has not started")
        return self._state

    @property
    def ready(self) -> bool:
        """Started, and the current state can verify tokens (``ports.Readiness``)."""
        return self._state is not None and self._state.ready

    def breakglass_service(self) -> BreakglassService | None:
        """The current configuration's break-glass service (``ports.BreakglassSource``)."""
        state = self._state
        return None if state is None or state.breakglass is None else state.breakglass.service

    async def send(self, alert: Alert, *, required: bool = False) -> None:
        """Alert through the serving configuration's sinks (``ports.Alerts``).

        Process-wide services (the directory) alert through here, so their
        alerts follow a reload that changes the sinks. Before start there are
        no sinks: logged, and ``AlertDeliveryError`` if required.
        """
        state = self._state
        alerts = _NO_SINKS if state is None else state.alerts
        await alerts.send(alert, required=required)

    @property
    def trusted_proxies(self) -> tuple[Network, ...]:
        """The serving state's (``ports.TrustedProxiesView``); none before the start, so
        until then no forwarding header is believed."""
        return () if self._state is None else self._state.inbound.trusted_proxies

    async def start(self) -> None:
        await self.runtime.start()
        loaded = load_config(self.path)
        state = GatewayState.build(loaded, self.runtime, await _workflows(loaded, self.runtime))
        await state.start()
        if self.runtime.grants is not None:  # the index is loaded before the first request
            await self.runtime.grants.start(lambda: (self._state or state).loaded.config)
        self._serve(state)

    def _serve(self, state: GatewayState) -> GatewayState | None:
        """Swap ``state`` in (returning the one it replaces); the directory follows it.

        The lockout guard changes here, with the configuration that serves,
        never while a reload is still being built: a refused reload leaves the
        protected groups as they were.
        """
        old, self._state = self._state, state
        directory = self.runtime.directory
        if directory is not None:
            directory.service.use_guard(guard_of(state.loaded.config))
        return old

    async def reload(self) -> bool:
        """Load, build and start a new state; swap only if all of that worked.

        Never raises (but for cancellation): the SIGHUP handler and the file
        watcher call it, and a failure must neither stop the watcher nor
        replace the serving state. Requests already in flight keep the state
        they started with.
        """
        async with self._lock:
            state = await self._build_new()
            if state is None:
                self.reloads_failed += 1
                return False
            if not await self._record_policy_change(state):
                self.reloads_failed += 1
                await state.aclose()
                return False
            old = self._serve(state)
            self.reloads_ok += 1
            log.info("configuration reloaded from %s", self.path)
            if old is not None:
                _warn_restart_only(old.loaded, state.loaded, self.path)
        if old is not None:
            asyncio.get_running_loop().call_later(_CLOSE_OLD_AFTER, _close_later, old)
        return True

    async def _build_new(self) -> GatewayState | None:
        try:  # parsing and compiling a large file off the event loop keeps requests flowing
            loaded = await asyncio.to_thread(load_config, self.path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error(
                    "reload refused, the old configuration keeps serving: %s", problem.render()
                )
            return None
        for warning in loaded.warnings:
            log.warning("configuration: %s", warning.render())
        state: GatewayState | None = None
        try:
            workflows = await _workflows(loaded, self.runtime)
            state = GatewayState.build(loaded, self.runtime, workflows)
            await state.start()
            await _wait_ready(state)
        except Exception as exc:  # whatever failed, the old state keeps serving
            expected = isinstance(exc, GlassgateError | OSError | TimeoutError | ValueError)
            log.error(
                "reload refused, the old configuration keeps serving: %s: %s",
                type(exc).__name__,
                str(exc)[:500],
                exc_info=not expected,  # a bug: keep its traceback
            )
            if state is not None:
                await state.aclose()
            return None
        return state

    async def _record_policy_change(self, new: GatewayState) -> bool:
        """False when the locked policy changed and that could not be audited (SPEC C7)."""
        old = self._state
        if old is None:
            return True
        try:
            await record_policy_change(
                old.loaded,
                new.loaded,
                self.runtime.audit_log,
                new.alerts,
                path=self.path,
                clock=self.runtime.clock,
            )
        except AuditUnavailableError:
            log.error("reload refused: the break-glass policy change could not be audited")
            return False
        return True

    async def aclose(self) -> None:
        if self._state is not None:
            await self._state.aclose()
        await self.runtime.aclose()


def _warn_restart_only(old: LoadedConfig, new: LoadedConfig, path: str) -> None:
    """Listeners are bound once, at start: a changed address waits for a restart."""
    if old.config.listen != new.config.listen:
        log.warning("listen changed in %s: it takes effect on restart only", path)
    if old.config.console != new.config.console:
        log.warning("console changed in %s: it takes effect on restart only", path)


async def _wait_ready(state: GatewayState) -> None:
    deadline = asyncio.get_running_loop().time() + _READY_TIMEOUT
    while not state.ready:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the new configuration's issuers published no usable keys")
        await asyncio.sleep(0.05)


def _close_later(state: GatewayState) -> None:
    """Old states close after in-flight requests had time to finish."""
    task = asyncio.ensure_future(state.aclose())
    task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
