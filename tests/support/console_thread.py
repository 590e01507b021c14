"""The console over an in-process break-glass service, served from a thread for browser tests.

Playwright's sync API cannot run inside an event loop, so the console runs in
its own thread with its own loop: ``ThreadedConsole`` binds a free port first
(the WebAuthn origin ``http://localhost:PORT`` must be known before the
relying party is built), builds a ``Harness`` (real WebAuthn, argon2, audit;
memory store; a clock the test moves) and the real console app, and serves
it with uvicorn. ``call`` runs a coroutine on that loop, so a test can ask
the service things the way the CLI would (create a link, read the audit log).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import uvicorn

from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.schema import SignInLimitsConfig
from glassgate.web import ConsoleServices, create_console_app
from glassgate.web.throttle import SignInLimits, SignInThrottle
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.service import BreakglassService
from tests.support.breakglass import Harness

__all__ = ["ThreadedConsole"]

T = TypeVar("T")


class _Ready:
    ready = True


class _Source:
    def __init__(self, service: BreakglassService) -> None:
        self.service = service

    def breakglass_service(self) -> BreakglassService | None:
        return self.service


class ThreadedConsole:
    def __init__(self, policy: BreakglassPolicy) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.origin = f"http://localhost:{self.port}"
        self._policy = policy
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.harness: Harness
        self._server: uvicorn.Server

    def __enter__(self) -> ThreadedConsole:
        self._thread.start()
        if not self._started.wait(15):
            raise RuntimeError("the console did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(15)
        self._sock.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self.harness = Harness(policy=self._policy, origin=self.origin)
        limits = SignInLimits.from_config(SignInLimitsConfig())
        throttle = SignInThrottle(MemoryQuotaStore(), limits, self.harness.clock)
        services = ConsoleServices(
            readiness=_Ready(),
            breakglass=_Source(self.harness.service),
            throttle=throttle,
            clock=self.harness.clock,
        )
        config = uvicorn.Config(create_console_app(services), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        serving = asyncio.ensure_future(self._server.serve(sockets=[self._sock]))
        while not self._server.started and not serving.done():
            await asyncio.sleep(0.02)
        self._started.set()
        await serving
        await self.harness.aclose()

    def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` on the console's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(_call(work), self._loop).result(30)


async def _call(work: Callable[[], Awaitable[Any]]) -> Any:
    return await work()
