"""Run the demo: development issuer, sample upstream and the real gateway, one event loop.

Why one process and one loop: a fresh machine needs nothing but ``pip install``
and one command, Ctrl-C stops everything, and nothing is left behind (the
config and any state live in a temporary directory removed on exit). The
gateway is what ``glassgate serve`` runs, built and served by the same
composition root (``app.compose``, ``app.server``), without an audit log. Only
the socket is bound here, so the demo can fall back to a free port when 8080
is taken and knows the address before anything refers to it.

Order: issuer and upstream start first (the gateway fetches the issuer's JWKS
during its own startup), then the gateway; the sample tokens are minted and
printed only once the gateway reports ready, so every printed command works
the moment it appears. Shutdown runs the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uvloop

from glassgate.adapters.http.connection_limits import ConnectionLimits
from glassgate.app.compose import build_gateway
from glassgate.app.server import Listener, bind_socket, serve, server_config
from glassgate.app.state import StateHolder
from glassgate.config.load import load_config
from glassgate.demo._http import Handler, LocalHttpServer
from glassgate.demo.alerts import AlertInbox
from glassgate.demo.announce import DemoInfo, render_json, render_text
from glassgate.demo.breakglass import EnrolmentLink, enrolment_links, write_sealed_credential
from glassgate.demo.config import AUDIENCE, DemoAddresses, console_origin, render_config
from glassgate.demo.grants import DemoGrant, file_demo_grant
from glassgate.demo.issuer import DevIssuer
from glassgate.demo.samples import build_samples, curl_command
from glassgate.demo.upstream import SampleUpstream
from glassgate.errors import GlassgateError
from glassgate.types import Secret

__all__ = ["DEFAULT_PORT", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "DemoOptions", "run"]

log = logging.getLogger("glassgate.demo")

HOST = "127.0.0.1"  # the development issuer must never be reachable from elsewhere
DEFAULT_PORT = 8080
CONSOLE_PORT = 8081
READY_TIMEOUT = 20.0
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class DemoOptions:
    port: int | None = None  # None: 8080, or a free port when 8080 is taken
    json: bool = False
    log_level: str = "info"
    token_ttl: float = 3600.0


def run(options: DemoOptions, out: TextIO) -> int:
    """Run until Ctrl-C or SIGTERM; the exit code says whether the demo came up.

    On uvloop, like ``glassgate serve``: the demo should exercise the same
    event loop the gateway runs on in production.
    """
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run_demo(options, out))


async def run_demo(options: DemoOptions, out: TextIO) -> int:
    try:
        gateway_sock = _gateway_socket(options.port)
    except OSError as exc:
        log.error("glassgate demo: cannot listen on %s:%s: %s", HOST, options.port, exc.strerror)
        return EXIT_USAGE
    console_sock = _preferred_socket(CONSOLE_PORT)
    gateway_url = _url(gateway_sock)
    with (
        gateway_sock,
        console_sock,
        tempfile.TemporaryDirectory(prefix="glassgate-demo-") as state_dir,
    ):
        async with AsyncExitStack() as helpers:
            issuer_sock = bind_socket(HOST, 0)
            helpers.callback(issuer_sock.close)
            issuer = DevIssuer(_url(issuer_sock), AUDIENCE, ttl=options.token_ttl)
            await _serve_helper(helpers, issuer_sock, "demo issuer", issuer.handle)
            upstream_url = await _serve_helper(
                helpers, bind_socket(HOST, 0), "demo upstream", SampleUpstream().handle
            )
            alerts_secret = secrets.token_urlsafe(24)
            inbox = AlertInbox(Secret(alerts_secret), out, as_json=options.json)
            alerts_url = await _serve_helper(
                helpers, bind_socket(HOST, 0), inbox.name, inbox.handle
            )
            write_sealed_credential(state_dir)
            addresses = DemoAddresses(
                listen=gateway_url.removeprefix("http://"),
                issuer=issuer.issuer,
                jwks_uri=issuer.jwks_uri,
                upstream=upstream_url,
                state_dir=state_dir,
                console=_url(console_sock).removeprefix("http://"),
                alerts_url=alerts_url + "/alerts",
                alerts_secret=alerts_secret,
            )
            config_path = Path(state_dir) / "glassgate-demo.yaml"
            config_path.write_text(render_config(addresses), encoding="utf-8")
            announce = _Announcer(
                issuer,
                gateway_url,
                console_origin(addresses.console),
                upstream_url,
                str(config_path),
                options,
                out,
            )
            return await _serve_gateway(
                gateway_sock, console_sock, str(config_path), options, announce
            )


def _gateway_socket(port: int | None) -> socket.socket:
    if port is not None:
        return bind_socket(HOST, port)
    return _preferred_socket(DEFAULT_PORT)


def _preferred_socket(port: int) -> socket.socket:
    try:
        return bind_socket(HOST, port)
    except OSError:
        log.info("port %d is taken; the demo uses a free port instead", port)
        return bind_socket(HOST, 0)


def _url(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}"


async def _serve_helper(
    stack: AsyncExitStack, sock: socket.socket, name: str, handler: Handler
) -> str:
    stack.callback(sock.close)  # if start fails; closing twice is harmless
    server = LocalHttpServer(name, handler)
    await server.start(sock)
    stack.push_async_callback(server.aclose)
    return _url(sock)


@dataclass(frozen=True, slots=True)
class _Announcer:
    """Mints the sample tokens and prints them, once the gateway is ready."""

    issuer: DevIssuer
    gateway_url: str
    console_url: str
    upstream_url: str
    config_path: str
    options: DemoOptions
    out: TextIO

    def __call__(self, links: tuple[EnrolmentLink, ...]) -> None:
        expires_at = int(time.time() + self.issuer.ttl)  # minted just after: a lower bound
        info = DemoInfo(
            gateway=self.gateway_url,
            issuer=self.issuer.issuer,
            discovery_uri=self.issuer.discovery_uri,
            jwks_uri=self.issuer.jwks_uri,
            upstream=self.upstream_url,
            config_path=self.config_path,
            expires_at=expires_at,
            samples=build_samples(self.issuer),
            console=self.console_url,
            links=links,
        )
        text = render_json(info) + "\n" if self.options.json else render_text(info)
        self.out.write(text)
        self.out.flush()

    def grant(self, grant: DemoGrant) -> None:
        """After the summary: the grant filed and approved at start, and the call it opens."""
        sample = grant.sample
        if self.options.json:
            self.out.write(json.dumps({"grant": sample.as_dict(self.gateway_url)}) + "\n")
        else:
            self.out.write(
                f"\n# Just-in-time grant {grant.grant_id}: expect 200\n#    {sample.title}\n"
                f"{curl_command(sample, self.gateway_url)}\n"
                f"#    glassgate grants list --config {self.config_path}\n"
            )
        self.out.flush()


async def _serve_gateway(
    sock: socket.socket,
    console_sock: socket.socket,
    config_path: str,
    options: DemoOptions,
    announce: _Announcer,
) -> int:
    # The audit log lives in the state directory, removed on exit: break-glass refuses
    # to act without one (every step is audited first), so the demo keeps one too.
    gateway = build_gateway(config_path, load_config(config_path))
    level = "debug" if options.log_level == "debug" else "warning"
    limits = ConnectionLimits.from_config(gateway.limits)
    data_plane = server_config(gateway.app, log_level=level, graceful_shutdown=5, limits=limits)
    server = Listener(data_plane, sock)
    listeners = [server]
    if gateway.console is not None:
        console = server_config(gateway.console.app, log_level=level, lifespan="off", limits=limits)
        listeners.append(Listener(console, console_sock))
    ready = asyncio.create_task(_announce_when_ready(server, gateway.holder, announce))
    try:
        # Signals are not raised again after shutdown: the demo still has to stop its
        # issuer and upstream and remove its temporary directory.
        await serve(listeners, reraise_signals=False)
    except SystemExit:  # uvicorn's answer to a failed app startup; it logged why
        log.error("glassgate demo: the gateway did not start (see above)")
        return EXIT_FAILED
    finally:
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready
    if not ready.cancelled() and not ready.result():
        return EXIT_FAILED  # never became ready; _announce_when_ready said why
    log.info("glassgate demo stopped")
    return EXIT_OK


async def _announce_when_ready(server: Listener, holder: StateHolder, announce: _Announcer) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while not (server.started and holder.state.ready):
        if time.monotonic() > deadline:
            log.error(
                "glassgate demo: the gateway was not ready within %.0f s "
                "(it could not load the demo issuer's keys); stopping",
                READY_TIMEOUT,
            )
            server.should_exit = True
            return False
        await asyncio.sleep(0.02)
    try:
        announce(await enrolment_links(holder, announce.console_url))
        try:
            grant = await file_demo_grant(holder, announce.issuer)
        except GlassgateError as exc:  # the rest of the demo works without it
            log.warning("glassgate demo: the sample grant was not filed (%s): %s", exc.code, exc)
            grant = None
        if grant is not None:
            announce.grant(grant)
    except OSError as exc:  # stdout closed (``| head``): nobody can see the commands
        log.error("glassgate demo: cannot print the demo commands (%s); stopping", exc)
        server.should_exit = True
        return False
    return True
