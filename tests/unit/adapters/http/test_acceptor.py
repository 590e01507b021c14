"""adapters.http.acceptor: every waiting connection is taken in one turn, and
running out of descriptors pauses accepting instead of spinning."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import socket
from collections.abc import Callable

import pytest
import uvloop

from glassgate.adapters.http import acceptor as acceptor_module
from glassgate.adapters.http.acceptor import Acceptor


class Counting(asyncio.Protocol):
    """Counts connections made and the bytes received on them."""

    made: list[asyncio.Transport]

    def __init__(self, made: list[asyncio.Transport]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)  # type: ignore[arg-type]  # uvloop's is not a subclass


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def _factory(made: list[asyncio.Transport]) -> Callable[[], asyncio.Protocol]:
    return lambda: Counting(made)


def _close_all(made: list[asyncio.Transport], clients: list[socket.socket]) -> None:
    for transport in made:
        transport.close()
    for client in clients:
        client.close()


async def _connect_many(port: int, count: int) -> list[socket.socket]:
    # Blocking connects: the kernel completes each handshake into the backlog,
    # while this coroutine keeps the loop from running the acceptor's reader.
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def test_one_drain_takes_every_connection_waiting_in_the_backlog() -> None:
    async def main() -> int:
        made: list[asyncio.Transport] = []
        with _listening() as sock:
            acceptor = Acceptor(sock, _factory(made), backlog=64)
            acceptor.start()
            clients = await _connect_many(sock.getsockname()[1], 20)
            acceptor.drain()  # the one turn; the loop's own reader never runs
            acceptor.close()
            await acceptor.wait_closed()
            nodelay = {
                t.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                for t in made
            }
            _close_all(made, clients)
            assert nodelay == {1}
            return len(made)

    assert asyncio.run(main()) == 20


def test_a_drain_stops_at_its_per_turn_bound_and_the_rest_wait_for_the_next() -> None:
    async def main() -> list[int]:
        made: list[asyncio.Transport] = []
        counts = []
        with _listening() as sock:
            acceptor = Acceptor(sock, _factory(made), backlog=64, per_turn=5)
            acceptor.start()
            sock_fd = sock.fileno()
            asyncio.get_running_loop().remove_reader(sock_fd)  # only the drains below accept
            clients = await _connect_many(sock.getsockname()[1], 12)
            for _ in range(3):
                acceptor.drain()
                await asyncio.sleep(0.01)  # the hand-offs of this turn complete
                counts.append(len(made))
            acceptor.close()
            await acceptor.wait_closed()
            _close_all(made, clients)
        return counts

    assert asyncio.run(main()) == [5, 10, 12]


class RefusingSocket:
    """A listening socket whose ``accept`` fails with ``failure``: always, or the first
    ``times`` calls and then accepts for real."""

    def __init__(self, real: socket.socket, failure: OSError, times: int | None = None) -> None:
        self.real = real
        self.failure = failure
        self.times = times
        self.calls = 0

    def fileno(self) -> int:
        return self.real.fileno()

    def listen(self, backlog: int) -> None:
        self.real.listen(backlog)

    def setblocking(self, flag: bool) -> None:
        self.real.setblocking(flag)

    def accept(self) -> tuple[socket.socket, object]:
        self.calls += 1
        if self.times is None or self.calls <= self.times:
            raise self.failure
        return self.real.accept()


@pytest.mark.parametrize(
    ("code", "hint"),
    [(errno.EMFILE, "open-file limit"), (errno.EINVAL, "resumes by itself")],
)
def test_an_accept_error_pauses_the_reader_then_accepting_resumes(
    code: int,
    hint: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(acceptor_module, "PAUSE_SECONDS", 0.05)

    async def main() -> tuple[int, int]:
        made: list[asyncio.Transport] = []
        with _listening() as real:
            refusing = RefusingSocket(real, OSError(code, "failure"))
            acceptor = Acceptor(refusing, _factory(made), backlog=8)  # type: ignore[arg-type]
            acceptor.start()
            client = socket.create_connection(("127.0.0.1", real.getsockname()[1]))
            await asyncio.sleep(0.02)  # readable: one try, then the reader is removed
            during_pause = refusing.calls
            await asyncio.sleep(0.2)  # paused 0.05 s, then watched again: more tries
            after = refusing.calls
            acceptor.close()
            await acceptor.wait_closed()
            client.close()
            return during_pause, after

    with caplog.at_level(logging.ERROR, logger="glassgate"):
        during_pause, after = asyncio.run(main())
    assert during_pause == 1  # not a busy loop on a socket that stays readable
    assert 1 < after < 20  # resumed, paced by the pause
    assert hint in caplog.text
    assert "cannot accept a connection" in caplog.text


def test_a_client_that_gave_up_in_the_queue_is_skipped() -> None:
    async def main() -> int:
        made: list[asyncio.Transport] = []
        with _listening() as real:
            sock = RefusingSocket(real, ConnectionAbortedError(), times=1)
            acceptor = Acceptor(sock, _factory(made), backlog=8)  # type: ignore[arg-type]
            acceptor.start()
            real.setblocking(False)
            client = socket.create_connection(("127.0.0.1", real.getsockname()[1]))
            acceptor.drain()
            acceptor.close()
            await acceptor.wait_closed()
            _close_all(made, [client])
            return len(made)

    assert asyncio.run(main()) == 1


@pytest.mark.parametrize("code", [errno.EPROTO, errno.ENETUNREACH, errno.EPERM])
def test_a_network_error_of_one_queued_connection_skips_it_without_pausing(
    code: int, caplog: pytest.LogCaptureFixture
) -> None:
    """accept(2): a pending network error of the new connection is its own, not the listener's."""

    async def main() -> int:
        made: list[asyncio.Transport] = []
        with _listening() as real:
            sock = RefusingSocket(real, OSError(code, "failure"), times=1)
            acceptor = Acceptor(sock, _factory(made), backlog=8)  # type: ignore[arg-type]
            acceptor.start()
            client = socket.create_connection(("127.0.0.1", real.getsockname()[1]))
            acceptor.drain()  # the failure, then the waiting client, in the same turn
            acceptor.close()
            await acceptor.wait_closed()
            _close_all(made, [client])
            return len(made)

    with caplog.at_level(logging.ERROR, logger="glassgate"):
        assert asyncio.run(main()) == 1
    assert "cannot accept" not in caplog.text


def test_close_stops_accepting_and_is_idempotent() -> None:
    async def main() -> int:
        made: list[asyncio.Transport] = []
        with _listening() as sock:
            acceptor = Acceptor(sock, _factory(made), backlog=8)
            acceptor.start()
            acceptor.close()
            acceptor.close()
            client = socket.create_connection(("127.0.0.1", sock.getsockname()[1]))
            await asyncio.sleep(0.05)
            acceptor.drain()  # a late call after close takes nothing either
            await acceptor.wait_closed()
            client.close()
            return len(made)

    assert asyncio.run(main()) == 0


def test_a_connection_reset_during_hand_off_is_closed_quietly() -> None:
    async def main() -> bool:
        loop = asyncio.get_running_loop()

        async def refuse(*args: object, **kwargs: object) -> None:
            raise ConnectionResetError(errno.ECONNRESET, "reset")

        made: list[asyncio.Transport] = []
        with _listening() as sock:
            acceptor = Acceptor(sock, _factory(made), backlog=8)
            acceptor.start()
            loop.connect_accepted_socket = refuse  # type: ignore[method-assign,assignment]
            client = socket.create_connection(("127.0.0.1", sock.getsockname()[1]))
            acceptor.drain()
            acceptor.close()
            await acceptor.wait_closed()
            client.settimeout(2)
            closed = client.recv(1) == b""  # the server side was closed, not leaked
            client.close()
            return closed and not made

    assert asyncio.run(main())


def test_under_uvloop_a_handed_off_descriptor_is_closed_once() -> None:
    """The transport owns the accepted socket: after it closes, the number may be
    reused at once, and collecting the socket object must not close it again."""

    async def main() -> bytes:
        made: list[asyncio.Transport] = []
        with _listening() as sock:
            acceptor = Acceptor(sock, _factory(made), backlog=8)
            acceptor.start()
            client = socket.create_connection(("127.0.0.1", sock.getsockname()[1]))
            async with asyncio.timeout(10):
                while not made:
                    await asyncio.sleep(0.01)
            transport = made.pop()
            number = transport.get_extra_info("socket").fileno()
            read_end, write_end = os.pipe()  # opened first: neither takes the number
            transport.close()
            await asyncio.sleep(0.05)
            os.dup2(write_end, number)  # the freed number now names the pipe
            gc.collect()
            await asyncio.sleep(0.05)
            gc.collect()
            os.write(number, b"x")  # EBADF here if the socket object closed it again
            alive = os.read(read_end, 1)
            for fd in (read_end, write_end, number):
                os.close(fd)
            acceptor.close()
            await acceptor.wait_closed()
            client.close()
            return alive

    assert uvloop.run(main()) == b"x"
