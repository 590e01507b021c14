"""Accept every connection that is waiting, in one turn of the event loop.

Why not ``loop.create_server``: since libuv 1.45 (libuv#3696), uvloop's
listener accepts one connection per turn of the loop. A turn of a loaded
gateway handles every request that is ready, tens of milliseconds of work, so
a burst of N new connections waited up to N turns: 30 new connections opened
beside 64 busy ones on uvicorn + uvloop got their first answers after a
median 384 ms and at most 702 ms (asyncio's selector loop, which accepts up
to its backlog per turn: 64-68 ms). That was row 6's p99 in ``bench/``: nginx
opens a fresh connection to the gateway for every ``auth_request`` whose
kept-alive one it dropped, and the last of them waited hundreds of
milliseconds (``docs/decisions/data-plane-server.md``).

``Acceptor`` watches the listening socket itself and drains its queue each
time it is readable, handing every accepted socket to the loop
(``connect_accepted_socket``) with the same protocol ``create_server`` would
have used, so the connection limits, keep-alive and parsing are unchanged.
Running out of descriptors (``EMFILE``) pauses accepting for a second, as
asyncio does, instead of spinning on a socket that stays readable.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

__all__ = ["Acceptor"]

_log = logging.getLogger("glassgate")

PER_TURN = 512
"""At most this many accepts per readiness: a flood cannot starve the open connections."""

PAUSE_SECONDS = 1.0
"""How long accepting stops after the process ran out of descriptors or memory."""

_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

#: accept(2) on Linux reports a network error already pending on the *new*
#: connection (or a firewall's refusal of it) as its own failure, and says to
#: retry as for EAGAIN: one client's broken connection must not pause everyone.
_PEER_ERRORS = frozenset(
    {
        errno.ECONNABORTED,
        errno.EPROTO,
        errno.ENOPROTOOPT,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.EHOSTUNREACH,
        errno.ENONET,
        errno.EOPNOTSUPP,
        errno.EPERM,
    }
)


class Acceptor:
    """Drains a listening socket each turn; ``close`` stops it, ``wait_closed`` ends hand-offs."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        *,
        backlog: int,
        per_turn: int = PER_TURN,
    ) -> None:
        self._sock = sock
        self._factory = protocol_factory
        self._backlog = backlog
        self._per_turn = per_turn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._handoffs: set[asyncio.Task[None]] = set()
        self._closed = False

    def start(self) -> None:
        """Listen and watch the socket; the caller's loop must be running."""
        self._loop = asyncio.get_running_loop()
        self._sock.listen(self._backlog)
        self._sock.setblocking(False)
        self._loop.add_reader(self._sock.fileno(), self.drain)

    def drain(self) -> None:
        """Accept what is waiting (up to ``per_turn``) and hand each socket to the loop."""
        loop = self._loop
        if loop is None or self._closed:
            return
        for _ in range(self._per_turn):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while queued: nothing to serve
            except OSError as exc:
                if exc.errno in _PEER_ERRORS:
                    continue  # that connection is lost; the next one may be fine
                self._pause(exc)
                return
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                # Nagle's algorithm would hold small answers for the peer's delayed ACK.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = loop.create_task(self._hand_off(loop, conn))
            self._handoffs.add(task)
            task.add_done_callback(self._handoffs.discard)

    async def _hand_off(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(self._factory, conn)
        except OSError as exc:  # reset before the transport was set up: the peer is gone
            _log.debug("a connection closed while it was being set up: %s", exc)
            conn.close()

    def _pause(self, exc: OSError) -> None:
        loop = self._loop
        assert loop is not None
        hint = (
            "raise the open-file limit (ulimit -n, LimitNOFILE=) or lower limits.max_connections"
            if exc.errno in _RESOURCE_ERRORS
            else "accepting resumes by itself"
        )
        _log.error(
            "cannot accept a connection (%s): new connections wait %.0f s; %s",
            exc.strerror or exc,
            PAUSE_SECONDS,
            hint,
        )
        loop.remove_reader(self._sock.fileno())
        self._resume = loop.call_later(PAUSE_SECONDS, self._watch_again)

    def _watch_again(self) -> None:
        self._resume = None
        if not self._closed and self._loop is not None:
            self._loop.add_reader(self._sock.fileno(), self.drain)

    def close(self) -> None:
        """Stop accepting; connections already handed to the loop are left to the server."""
        if self._closed:
            return
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
        if self._loop is not None and self._sock.fileno() != -1:
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """Wait for the hand-offs that were under way when ``close`` was called."""
        if self._handoffs:
            await asyncio.gather(*self._handoffs, return_exceptions=True)
