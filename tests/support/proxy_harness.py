"""The real ``GatewayApp`` on a real uvicorn server (httptools), in the test's own event loop.

``serve_gateway(config_text)`` builds the gateway state from a config text the
way ``app.py`` does, but with a fake authenticator (token ``tok-<group>``
means a principal in that group), so proxy tests need no IdP and run in
milliseconds; every socket, server and upstream pool is closed on exit.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace

import uvicorn

from glassgate.adapters.http.asgi import GatewayApp
from glassgate.adapters.http.gate import Gate
from glassgate.adapters.http.inbound import Inbound
from glassgate.adapters.http.upstreams import Upstream, build_upstreams
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import load_config_text
from glassgate.core.principal import Principal
from glassgate.errors import TokenExpiredError
from glassgate.tokens.downstream import IdentitySigner

__all__ = ["ISSUER", "FakeAuthenticator", "RunningGateway", "serve_gateway"]

ISSUER = "http://127.0.0.1:9400"


class FakeAuthenticator:
    """``tok-<group>`` is a principal ``user-<group>`` in ``<group>``; anything else expired."""

    async def authenticate(self, raw: str, now: float) -> Principal:
        if not raw.startswith("tok-"):
            raise TokenExpiredError("expired")
        group = raw[4:]
        return Principal(f"user-{group}", ISSUER, groups=frozenset({group}), token_hash=raw)


@dataclass
class RunningGateway:
    port: int
    upstreams: dict[str, Upstream]


@contextlib.asynccontextmanager
async def serve_gateway(config_text: str) -> AsyncIterator[RunningGateway]:
    loaded = load_config_text(config_text, "test.yaml", {})
    compiled = loaded.compiled
    gate = Gate(
        compiled.policy,
        FakeAuthenticator(),
        MemoryQuotaStore(),
        dict(compiled.quota_tiers),
        time.time,
        (),
    )
    limits = loaded.config.limits
    inbound = Inbound(compiled.trusted_proxies, limits.max_header_bytes, limits.max_token_bytes)
    upstreams = build_upstreams(loaded.config.upstreams)
    state = SimpleNamespace(
        loaded=loaded, gate=gate, inbound=inbound, upstreams=upstreams, ready=True
    )
    holder = SimpleNamespace(state=state, runtime=SimpleNamespace(signer=IdentitySigner("gg")))
    app = GatewayApp(holder, watch=False)  # type: ignore[arg-type]
    config = uvicorn.Config(
        app,
        http="httptools",
        ws="wsproto",
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        await server.startup(sockets=[sock])
        try:
            yield RunningGateway(sock.getsockname()[1], upstreams)
        finally:
            await server.shutdown(sockets=[sock])
    finally:
        for upstream in upstreams.values():
            await upstream.aclose()
        sock.close()
