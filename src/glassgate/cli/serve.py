"""``glassgate serve``: run the gateway (reverse proxy and forward-auth) on uvicorn.

uvicorn with httptools (llhttp) and uvloop was chosen over granian because
llhttp rejects a request carrying both Content-Length and Transfer-Encoding
with 400 (RFC 9112 6.1) and hands the raw, undecoded path to the app, while
granian's hyper core silently drops Content-Length and only exposes a decoded
path over RSGI; the throughput of the two is compared in ``bench/``.
"""

from __future__ import annotations

import argparse
import logging
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
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s")
    from glassgate.app import Runtime, StateHolder

    run_server(StateHolder(args.config, Runtime()), host, port, args.log_level, not args.no_watch)
    return 0


def run_server(holder: StateHolder, host: str, port: int, log_level: str, watch: bool) -> None:
    import uvicorn

    from glassgate.adapters.http.asgi import GatewayApp

    config = uvicorn.Config(
        GatewayApp(holder, watch=watch),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        proxy_headers=False,  # the gateway decides whom to believe (trusted_proxies)
        server_header=False,
        ws="none",
    )
    uvicorn.Server(config).run()
