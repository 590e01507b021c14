"""``glassgate serve``: run the gateway (reverse proxy and forward-auth) on uvicorn.

uvicorn with httptools (llhttp) and uvloop was chosen over granian because
llhttp rejects a request carrying both Content-Length and Transfer-Encoding
with 400 (RFC 9112 6.1) and hands the raw, undecoded path to the app, while
granian's hyper core silently drops Content-Length and only exposes a decoded
path over RSGI; the throughput of the two is compared in ``bench/``.
"""

from __future__ import annotations

import argparse
import gc
from typing import TYPE_CHECKING, Any

from glassgate.config.load import load_config

if TYPE_CHECKING:
    from glassgate.app import StateHolder

__all__ = ["register", "run_server", "split_listen"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the gateway",
        description="Run the gateway as a reverse proxy with a forward-auth endpoint. "
        "Reloads the config on SIGHUP or when the file changes; a bad config is reported "
        "and the old one keeps serving.",
    )
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument("--listen", help="HOST:PORT to listen on (default: the config's listen)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.add_argument("--no-watch", action="store_true", help="reload on SIGHUP only")
    parser.set_defaults(handler=run)


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)  # fail fast with located problems, exit 2
    host, port = split_listen(args.listen or loaded.config.listen)
    from glassgate.adapters.observability import configure_logging
    from glassgate.app import Runtime, StateHolder

    configure_logging(args.log_level)  # JSON lines on stderr, uvicorn's own included

    from glassgate.adapters.audit_log import build_audit_log

    runtime = Runtime()
    # Blocking by design: opens (and on first start migrates) the database before serving.
    runtime.use_audit_log(build_audit_log(loaded.config.storage, loaded.config.audit))
    run_server(StateHolder(args.config, runtime), host, port, args.log_level, not args.no_watch)
    return 0


def run_server(holder: StateHolder, host: str, port: int, log_level: str, watch: bool) -> None:
    """Serve ``holder`` (not started yet) with metrics and the access log attached."""
    import uvicorn

    from glassgate.adapters.http.asgi import GatewayApp
    from glassgate.adapters.http.websocket import MAX_MESSAGE_BYTES
    from glassgate.adapters.observability import Observability

    # Fewer, larger young-generation collections: a request allocates a few hundred
    # short-lived objects, and the default threshold (700) collects every few
    # requests. Measured in bench/: about 25 µs of CPU per proxied request saved.
    gc.set_threshold(50_000, 20, 20)
    observability = Observability(holder)
    holder.runtime.sinks = (*holder.runtime.sinks, observability)  # before start builds the gate
    if holder.runtime.audit_log is not None:
        observability.watch_audit(holder.runtime.audit_log.counters)
    config = uvicorn.Config(
        observability.wrap(GatewayApp(holder, watch=watch)),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # glassgate writes its own, with the decision (observability)
        log_config=None,  # uvicorn's loggers propagate to the root handler set up by run()
        log_level=log_level,
        proxy_headers=False,  # the gateway decides whom to believe (trusted_proxies)
        server_header=False,
        # WebSocket pass-through (adapters/http/websocket.py). wsproto, not websockets-sansio:
        # that one logs an error for every refused upgrade (a 401 is routine here).
        ws="wsproto",
        ws_max_size=MAX_MESSAGE_BYTES,
    )
    uvicorn.Server(config).run()
