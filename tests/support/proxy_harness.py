"""The real gateway on a real uvicorn listener, in the test's own event loop.

``serve_gateway(config_text)`` builds the gateway through the composition root
(``app.compose.build_gateway``, ``app.server.server_config``), as ``glassgate
serve`` does, with two test seams the root offers: a fake IdP authenticator
(token ``tok-<group>`` means a principal in that group), so proxy tests need
no IdP and run in milliseconds, and no audit log. Every socket, server and
upstream pool is closed on exit.
"""

from __future__ import annotations

import contextlib
import tempfile
import textwrap
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import uvloop

from glassgate.app.compose import Gateway, build_gateway
from glassgate.app.runtime import Runtime
from glassgate.app.server import Listener, bind_socket, server_config
from glassgate.config.load import load_config
from glassgate.config.schema import Config
from glassgate.core.principal import Principal
from glassgate.errors import IdPUnavailableError, TokenExpiredError
from glassgate.tokens.keyring import KeyRing
from tests.support.hostile_upstream import Reply, fetch

__all__ = [
    "ISSUER",
    "FakeAuthenticator",
    "RunningGateway",
    "ask_gateway",
    "fake_authenticator",
    "gateway_config",
    "raw_request",
    "serve_gateway",
]

ISSUER = "http://127.0.0.1:9400"


class _NoKeys:
    """A key source with nothing in it (metrics read it at scrape time)."""

    keyrings: Mapping[str, KeyRing] = {}
    fetches_by_issuer: Mapping[str, int] = {}
    failures_by_issuer: Mapping[str, int] = {}


class FakeAuthenticator:
    """``tok-<group>`` is a principal ``user-<group>`` in ``<group>``; ``idp-down`` cannot be
    checked (the IdP does not answer); anything else expired."""

    ready = True
    keys = _NoKeys()

    async def authenticate(self, raw: str, now: float) -> Principal:
        if raw == "idp-down":
            raise IdPUnavailableError("introspection: https://idp.test answered HTTP 503")
        if not raw.startswith("tok-"):
            raise TokenExpiredError("expired")
        group = raw[4:]
        return Principal(f"user-{group}", ISSUER, groups=frozenset({group}), token_hash=raw)

    async def start(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        """Nothing to stop."""


def fake_authenticator(config: Config, runtime: Runtime) -> FakeAuthenticator:
    """The root's ``authenticator`` seam: the fake, whatever issuers the config names."""
    return FakeAuthenticator()


@dataclass
class RunningGateway:
    port: int
    gateway: Gateway


@contextlib.asynccontextmanager
async def serve_gateway(config_text: str) -> AsyncIterator[RunningGateway]:
    with tempfile.TemporaryDirectory(prefix="glassgate-proxy-test-") as directory:
        path = Path(directory) / "gateway.yaml"
        path.write_text(config_text, encoding="utf-8")
        gateway = build_gateway(
            str(path), load_config(str(path)), authenticator=fake_authenticator, audit=False
        )
        listener = Listener(
            server_config(gateway.app, lifespan="off", graceful_shutdown=2),
            bind_socket("127.0.0.1", 0),
        )
        await gateway.holder.start()  # the lifespan's job in serve; off here: no reload watcher
        try:
            with listener.sock:
                listener.config.load()
                listener.lifespan = listener.config.lifespan_class(listener.config)
                await listener.startup(sockets=[listener.sock])
                try:
                    yield RunningGateway(listener.sock.getsockname()[1], gateway)
                finally:
                    await listener.shutdown(sockets=[listener.sock])
        finally:
            await gateway.holder.aclose()


# One issuer (served by the fake authenticator) and one upstream ``app``: the start of
# most proxy-test configs; routes and the rest follow (``gateway_config``).
_PREAMBLE = """\
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
upstreams:
  - id: app
    targets: [{url}]
"""


def gateway_config(upstream_url: str, rest: str) -> str:
    """A config text: the standard issuer, the upstream ``app`` at ``upstream_url``, ``rest``."""
    return _PREAMBLE.format(url=upstream_url) + textwrap.dedent(rest)


def raw_request(method: str, target: str, *headers: str, host: str = "gw.test") -> bytes:
    """One HTTP/1.1 request, exactly as written, closing the connection after the answer."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}", *headers, "connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def ask_gateway(config_text: str, *requests: bytes) -> list[Reply]:
    """Start a gateway for ``config_text``, send each request on its own connection, stop."""

    async def go() -> list[Reply]:
        async with serve_gateway(config_text) as gw:
            return [await fetch(gw.port, raw, head=raw.startswith(b"HEAD ")) for raw in requests]

    return uvloop.run(go())
