"""Composition root: config -> adapters -> a running gateway state; reload by swap.

``Runtime`` holds what lives as long as the process (the identity signing key,
quota counters, the IdP HTTP client). ``GatewayState`` is everything built
from one config; a reload builds a complete new state, starts it, and swaps it
in only when that all succeeded, so a bad config never replaces a good one and
in-flight requests finish on the state they started with.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import httpx

from glassgate.adapters.clock import now
from glassgate.adapters.http.gate import DecisionSink, Gate
from glassgate.adapters.http.inbound import Inbound
from glassgate.adapters.http.upstreams import Upstream, build_upstreams
from glassgate.adapters.idp.authenticator import Authenticator, build_authenticator
from glassgate.adapters.quota_memory import MemoryQuotaStore
from glassgate.config.load import LoadedConfig, load_config
from glassgate.errors import ConfigError, GlassgateError
from glassgate.tokens.downstream import IdentitySigner

__all__ = ["GatewayState", "Runtime", "StateHolder"]

log = logging.getLogger("glassgate")

_READY_TIMEOUT = 15.0


@dataclass
class Runtime:
    """Process-wide parts that survive reloads."""

    signer: IdentitySigner = field(default_factory=lambda: IdentitySigner("glassgate"))
    quotas: MemoryQuotaStore = field(default_factory=MemoryQuotaStore)
    sinks: tuple[DecisionSink, ...] = ()
    http: httpx.AsyncClient | None = None

    def idp_client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self.http

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()


@dataclass
class GatewayState:
    """Everything built from one configuration."""

    loaded: LoadedConfig
    gate: Gate
    inbound: Inbound
    upstreams: dict[str, Upstream]
    authenticator: Authenticator

    @classmethod
    def build(cls, loaded: LoadedConfig, runtime: Runtime) -> GatewayState:
        config, compiled = loaded.config, loaded.compiled
        authenticator = build_authenticator(config, runtime.idp_client())
        gate = Gate(
            compiled.policy,
            authenticator,
            runtime.quotas,
            dict(compiled.quota_tiers),
            now,
            runtime.sinks,
        )
        inbound = Inbound(
            trusted_proxies=compiled.trusted_proxies,
            max_header_bytes=config.limits.max_header_bytes,
            max_token_bytes=config.limits.max_token_bytes,
        )
        return cls(loaded, gate, inbound, build_upstreams(config.upstreams), authenticator)

    async def start(self) -> None:
        await self.authenticator.start()
        for upstream in self.upstreams.values():
            upstream.start()

    @property
    def ready(self) -> bool:
        return self.authenticator.ready

    async def aclose(self) -> None:
        await self.authenticator.aclose()
        for upstream in self.upstreams.values():
            await upstream.aclose()


class StateHolder:
    """Holds the current state; ``reload`` swaps atomically or keeps the old one."""

    def __init__(self, path: str, runtime: Runtime) -> None:
        self.path = path
        self.runtime = runtime
        self._state: GatewayState | None = None
        self._lock = asyncio.Lock()
        self.reloads_failed = 0

    @property
    def state(self) -> GatewayState:
        if self._state is None:
            raise RuntimeError("the gateway has not started")
        return self._state

    async def start(self) -> None:
        state = GatewayState.build(load_config(self.path), self.runtime)
        await state.start()
        self._state = state

    async def reload(self) -> bool:
        """Load, build and start a new state; swap only if all of that worked."""
        async with self._lock:
            try:
                state = GatewayState.build(load_config(self.path), self.runtime)
                await state.start()
                await _wait_ready(state)
            except ConfigError as exc:
                self.reloads_failed += 1
                for problem in exc.problems:
                    log.error("reload refused: %s", problem.render())
                return False
            except (GlassgateError, OSError, TimeoutError) as exc:
                self.reloads_failed += 1
                log.error("reload refused: %s", exc)
                return False
            old, self._state = self._state, state
            log.info("configuration reloaded from %s", self.path)
        if old is not None:
            asyncio.get_running_loop().call_later(30.0, _close_later, old)
        return True

    async def aclose(self) -> None:
        if self._state is not None:
            await self._state.aclose()
        await self.runtime.aclose()


async def _wait_ready(state: GatewayState) -> None:
    deadline = asyncio.get_running_loop().time() + _READY_TIMEOUT
    while not state.ready:
        if asyncio.get_running_loop().time() > deadline:
            await state.aclose()
            raise TimeoutError("the new configuration's issuers published no usable keys")
        await asyncio.sleep(0.05)


def _close_later(state: GatewayState) -> None:
    """Old states close after in-flight requests had time to finish."""
    task = asyncio.ensure_future(state.aclose())
    task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
