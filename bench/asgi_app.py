"""glassgate's ASGI app built from environment variables, for ``granian`` (bench only).

``bench.asgi_app:app`` reads ``GLASSGATE_BENCH_CONFIG`` (the config file),
``GLASSGATE_BENCH_TOKEN_CACHE`` (``0`` turns the verified-token cache off) and
``GLASSGATE_BENCH_LOG_LEVEL`` and ``GLASSGATE_BENCH_GC_TUNED``, and builds the
app through the composition root, as ``glassgate serve`` does (audit log,
logging, GC threshold, the gateway inside the observability wrapper).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import socket
from typing import Any

import uvloop

import glassgate.app.runtime as runtime_module
from glassgate.adapters.http.upstream_conn import UpstreamConnection
from glassgate.adapters.observability import configure_logging
from glassgate.app.compose import build_gateway
from glassgate.config.load import load_config

__all__ = [
    "CACHE_ENV",
    "CONFIG_ENV",
    "GC_ENV",
    "LOG_ENV",
    "patch_uvloop_transport",
    "prepare",
    "tune_gc",
]

log = logging.getLogger("glassgate.bench")

CONFIG_ENV = "GLASSGATE_BENCH_CONFIG"
CACHE_ENV = "GLASSGATE_BENCH_TOKEN_CACHE"
LOG_ENV = "GLASSGATE_BENCH_LOG_LEVEL"
GC_ENV = "GLASSGATE_BENCH_GC_TUNED"


def _transport_is_kept() -> bool:
    """Whether ``UpstreamConnection`` keeps a uvloop transport (it must, to send anything)."""

    async def probe() -> bool:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            port = listener.getsockname()[1]
            loop = asyncio.get_running_loop()
            transport, conn = await loop.create_connection(UpstreamConnection, "127.0.0.1", port)
            kept = conn.transport is not None
            transport.close()
            return kept

    return uvloop.run(probe())


def patch_uvloop_transport() -> bool:
    """Work around ``UpstreamConnection.connection_made`` dropping uvloop's transport.

    uvloop's ``TCPTransport`` is not an ``asyncio.Transport`` subclass, so an
    ``isinstance`` check leaves ``transport`` None and every proxied request
    fails with 502. Patched only when the probe shows the bug; returns whether
    it patched. Reported in the results so nobody mistakes it for the product.
    """
    if _transport_is_kept():
        return False

    def connection_made(self: UpstreamConnection, transport: Any) -> None:
        self.transport = transport

    UpstreamConnection.connection_made = connection_made  # type: ignore[method-assign]
    log.warning("bench: patched UpstreamConnection.connection_made for uvloop transports")
    return True


def tune_gc() -> None:
    """Experiment (``GLASSGATE_BENCH_GC_TUNED=1``): what a GC set-up in ``serve`` would save.

    Everything alive after start-up (modules, config, compiled policy) moves to
    the permanent generation, and gen-0 collections run every 50,000 net
    allocations instead of 700: per-request garbage is acyclic and freed by
    reference counting, so frequent young collections only re-scan live objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def prepare(*, token_cache: bool, gc_tuned: bool) -> bool:
    """Apply the bench's changes before the gateway is built; returns whether the
    uvloop work-around was needed."""
    patched = patch_uvloop_transport()
    if gc_tuned:
        tune_gc()
    if not token_cache:  # the runtime's default IdP authenticator, with a one-entry cache
        build = runtime_module.build_authenticator
        runtime_module.build_authenticator = functools.partial(build, cache_size=1)  # type: ignore[assignment]
    return patched


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(name)
    config = os.environ[CONFIG_ENV]
    prepare(token_cache=os.environ.get(CACHE_ENV) != "0", gc_tuned=os.environ.get(GC_ENV) == "1")
    configure_logging(os.environ.get(LOG_ENV, "info"))
    app = build_gateway(config, load_config(config), watch=False).app
    gc.set_threshold(50_000, 20, 20)  # as `glassgate serve` does
    globals()["app"] = app
    return app
