"""The servers: the one uvicorn configuration, and every listener in one event loop.

uvicorn with httptools (llhttp) and uvloop was chosen over granian because
llhttp rejects a request carrying both Content-Length and Transfer-Encoding
with 400 (RFC 9112 6.1) and hands the raw, undecoded path to the app, while
granian's hyper core silently drops Content-Length and only exposes a decoded
path over RSGI; the throughput of the two is compared in ``bench/``.

``server_config`` is the only place a ``uvicorn.Config`` is built. ``serve``
runs one or more listeners (the data plane first; the console, when enabled,
on its own socket) in the current event loop: signals are handled once for
all of them, and when one stops they all stop. Sockets are bound by the
caller (``bind_socket``) so that a taken port is an error before anything
starts, and so the demo and the tests can bind port 0 and learn the address.
The listeners ``listeners`` builds enforce the connection limits of
``limits:`` (``adapters.http.connection_limits``, ``docs/decisions/
data-plane-server.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Literal

import uvicorn

from glassgate.adapters.http.acceptor import Acceptor
from glassgate.adapters.http.connection_limits import ConnectionLimits, guarded_protocol
from glassgate.adapters.http.websocket import MAX_MESSAGE_BYTES
from glassgate.app.compose import Gateway
from glassgate.errors import ConfigError, Problem
from glassgate.types import ASGIApp

__all__ = [
    "Listener",
    "Sockets",
    "bind_listen",
    "bind_socket",
    "bind_sockets",
    "listeners",
    "serve",
    "server_config",
    "split_listen",
]

_HANDLED = (signal.SIGINT, signal.SIGTERM)
_log = logging.getLogger("glassgate")


def split_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 in brackets) -> (host, port)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A bound (not yet listening) TCP socket; port 0 picks a free one.

    ``reuse_port``: several sockets share the address (``SO_REUSEPORT``) and
    the kernel spreads new connections over those listening (``--workers``).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def bind_listen(location: str, listen: str, *, copies: int = 1) -> list[socket.socket]:
    """``copies`` sockets bound to ``listen`` (more than one: ``SO_REUSEPORT``, one port).

    ``ConfigError`` naming ``location`` if they cannot be bound.
    """
    host, port = split_listen(listen)
    bound: list[socket.socket] = []
    try:
        if copies > 1:
            # Claim the address alone first: SO_REUSEPORT would otherwise let a second
            # gateway (same user) join a running one's port and take half its clients.
            with bind_socket(host, port) as probe:
                port = probe.getsockname()[1]  # port 0: the copies share the one picked
        for _ in range(copies):
            bound.append(bind_socket(host, port, reuse_port=copies > 1))
    except OSError as exc:
        for sock in bound:
            sock.close()
        problem = Problem(location, f"cannot listen on {listen}: {exc.strerror}", "is it in use?")
        raise ConfigError([problem]) from None
    return bound


@dataclass(frozen=True, slots=True)
class Sockets:
    """What ``serve`` listens on: the data plane's socket(s) and the console's.

    With ``--workers N`` the data plane has N sockets on one port
    (``SO_REUSEPORT``): each worker accepts on its own, and the kernel spreads
    connections evenly (one shared socket lets whichever worker is idle take
    them all, so a proxy's keep-alive pool could end up on one worker).
    """

    data_plane: list[socket.socket]
    console: socket.socket | None

    def every(self) -> list[socket.socket]:
        return [*self.data_plane, *([self.console] if self.console is not None else [])]

    def of_worker(self, index: int) -> list[socket.socket]:
        """Worker ``index``'s data-plane socket, and the console for worker 0 alone."""
        mine = [self.data_plane[index]]
        return [*mine, self.console] if index == 0 and self.console is not None else mine


def bind_sockets(listen: str, console_listen: str | None, *, workers: int = 1) -> Sockets:
    """The data plane's socket(s) on ``listen`` and, when given, the console's.

    Bound before anything starts (and, with ``--workers``, before the fork),
    so a taken port fails at once; ``ConfigError`` names the setting.
    """
    data_plane = bind_listen("listen", listen, copies=workers)
    if console_listen is None:
        return Sockets(data_plane, None)
    try:
        (console,) = bind_listen("console.listen", console_listen)
    except ConfigError:
        for sock in data_plane:
            sock.close()
        raise
    return Sockets(data_plane, console)


def listeners(
    gateway: Gateway, sockets: Sequence[socket.socket], *, log_level: str
) -> list[Listener]:
    """The data plane on ``sockets[0]`` and the console, when enabled, on ``sockets[1]``.

    The console's listener runs no lifespan: the data plane's starts the gateway.
    Both enforce the connection limits of ``limits:`` (``connection_limits``).
    """
    limits = ConnectionLimits.from_config(gateway.limits)
    raise_file_limit(limits.max_connections)
    config = server_config(gateway.app, log_level=log_level, limits=limits)
    bound = [Listener(config, sockets[0])]
    if gateway.console is not None and len(sockets) > 1:
        config = server_config(
            gateway.console.app, log_level=log_level, lifespan="off", limits=limits
        )
        bound.append(Listener(config, sockets[1]))
    return bound


def server_config(
    app: ASGIApp,
    *,
    log_level: str = "info",
    lifespan: Literal["on", "off"] = "on",
    graceful_shutdown: int | None = None,
    limits: ConnectionLimits | None = None,
) -> uvicorn.Config:
    """The one uvicorn configuration, for the data plane and every other listener.

    With ``limits`` the listener enforces them (``connection_limits``); without,
    it is plain uvicorn (tests and tools that serve a local app).
    """
    return uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools" if limits is None else guarded_protocol(limits),
        timeout_keep_alive=5 if limits is None else limits.keepalive_timeout,  # type: ignore[arg-type]
        lifespan=lifespan,
        access_log=False,  # glassgate writes its own, with the decision (observability)
        log_config=None,  # uvicorn's loggers propagate to the root handler the caller set up
        log_level=log_level,
        proxy_headers=False,  # the gateway decides whom to believe (trusted_proxies)
        server_header=False,
        # WebSocket pass-through (adapters/http/websocket.py). wsproto, not websockets-sansio:
        # that one logs an error for every refused upgrade (a 401 is routine here).
        ws="wsproto",
        ws_max_size=MAX_MESSAGE_BYTES,
        timeout_graceful_shutdown=graceful_shutdown,
    )


def raise_file_limit(connections: int) -> None:
    """Raise the soft descriptor limit so ``connections`` clients fit; warn when it cannot.

    Each proxied request holds two descriptors (client and upstream) plus the
    process's own (database, logs): with too low a limit the process would run
    out of descriptors before ``max_connections`` refuses anyone.
    """
    needed = 2 * connections + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        _log.warning(
            "the open-file limit (%d) is below what limits.max_connections=%d needs (%d): "
            "raise it (ulimit -n, LimitNOFILE=) or lower max_connections",
            soft,
            connections,
            needed,
        )


class Listener(uvicorn.Server):
    """One uvicorn server among those ``serve`` runs; ``serve``, not it, owns the signals.

    It accepts with ``Acceptor`` instead of ``loop.create_server``: uvloop takes
    one new connection per turn of the loop, which held a burst of new
    connections for hundreds of milliseconds under load (``acceptor``).
    """

    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        super().__init__(config)
        self.sock = sock
        self._acceptor: Acceptor | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up without its server: the lifespan, then ``Acceptor`` on ``sock``.

        ``sockets`` is what ``serve`` passes back to ``shutdown`` to close; the
        listener only ever accepts on its own ``sock``.
        """
        await super().startup(sockets=[])  # the lifespan, and no server of uvicorn's own
        config = self.config

        def protocol() -> asyncio.Protocol:  # what uvicorn's startup hands create_server
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        self._acceptor = Acceptor(self.sock, protocol, backlog=config.backlog)
        self._acceptor.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(listeners: Sequence[Listener], *, reraise_signals: bool = True) -> None:
    """Serve every listener until SIGINT/SIGTERM, or until any of them stops.

    A listener whose start fails (uvicorn's ``SystemExit``) stops the others and
    its exit code is raised here. With ``reraise_signals`` the caught signal is
    raised again once all have shut down, so the process ends the way the
    signal asked (uvicorn's own behaviour); the demo turns that off because it
    still has helpers to stop.
    """
    caught: list[int] = []

    def handle(sig: int, frame: FrameType | None) -> None:
        caught.append(sig)
        for listener in listeners:
            listener.handle_exit(sig, frame)

    with _signals(handle):
        tasks = [asyncio.create_task(_serve_one(listener)) for listener in listeners]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for listener in listeners:
                listener.should_exit = True
            codes = await asyncio.gather(*tasks)
    failed = [code for code in codes if code is not None]
    if failed:
        raise SystemExit(failed[0])
    if reraise_signals:
        for sig in reversed(caught):
            signal.raise_signal(sig)


async def _serve_one(listener: Listener) -> int | str | None:
    """Serve one listener; its startup failure becomes a value, so the others can stop."""
    try:
        await listener.serve(sockets=[listener.sock])
    except SystemExit as exc:
        return exc.code if exc.code is not None else 1
    return None


@contextlib.contextmanager
def _signals(handler: Callable[[int, FrameType | None], None]) -> Generator[None, None, None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled on the main thread
        return
    originals = {sig: signal.signal(sig, handler) for sig in _HANDLED}
    try:
        yield
    finally:
        for sig, original in originals.items():
            signal.signal(sig, original)
