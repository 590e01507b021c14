"""Target choice (round-robin, least-connections, parking) and active health checks."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import uvloop

from glassgate.adapters.http.upstreams import Target, Upstream, build_upstreams
from glassgate.config.schema import UpstreamConfig
from glassgate.errors import UpstreamError
from tests.support.hostile_upstream import Peer, ScriptedUpstream, ok
from tests.support.polling import eventually_async

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)


def upstream(count: int = 3, **settings: Any) -> Upstream:
    targets = tuple(f"http://127.0.0.1:{9001 + i}" for i in range(count))
    return Upstream(UpstreamConfig(id="app", targets=targets, **settings))


def names(up: Upstream, picks: int) -> Counter[int]:
    return Counter(up.pick().port for _ in range(picks))


def test_target_urls() -> None:
    target = Target.from_url("http://api.internal:8080/base/")
    assert (target.host, target.port, target.base_path, target.host_header) == (
        "api.internal",
        8080,
        "/base",
        b"api.internal:8080",
    )
    assert Target.from_url("http://api.internal").port == 80
    with pytest.raises(ValueError, match="only http://"):
        Target.from_url("https://api.internal")


def test_round_robin_spreads_evenly_and_in_order() -> None:
    up = upstream()
    assert [up.pick().port for _ in range(6)] == [9001, 9002, 9003] * 2
    assert names(up, 300) == {9001: 100, 9002: 100, 9003: 100}


def test_round_robin_skips_an_unhealthy_target_and_stays_even_over_the_rest() -> None:
    up = upstream()
    up.targets[1].healthy = False
    assert names(up, 300) == {9001: 150, 9003: 150}


def test_least_connections_prefers_the_idlest_target() -> None:
    up = upstream(balance="least_connections")
    up.targets[0].in_flight, up.targets[1].in_flight, up.targets[2].in_flight = 5, 1, 3
    assert up.pick().port == 9002


def test_least_connections_spreads_ties_and_follows_the_load() -> None:
    up = upstream(balance="least_connections")
    assert names(up, 300) == {9001: 100, 9002: 100, 9003: 100}  # all idle: rotate
    chosen = []
    for _ in range(9):  # requests that stay in flight: each goes to the idlest target
        target = up.pick()
        target.in_flight += 1
        chosen.append(target.port)
    assert Counter(chosen) == {9001: 3, 9002: 3, 9003: 3}
    up.targets[2].in_flight += 10
    assert {up.pick().port for _ in range(10)} == {9001, 9002}


def test_a_parked_target_is_skipped_while_another_is_up() -> None:
    up = upstream(2)
    up.targets[0].parked_until = time.monotonic() + 60
    assert names(up, 10) == {9002: 10}
    up.targets[1].parked_until = time.monotonic() + 60
    assert up.pick() in up.targets  # parking orders the choice, it never empties it


def test_avoid_picks_another_target_when_there_is_one() -> None:
    up = upstream(2)
    first = up.targets[0]
    assert all(up.pick(avoid=first) is up.targets[1] for _ in range(5))
    single = upstream(1)
    assert single.pick(avoid=single.targets[0]) is single.targets[0]


def test_no_healthy_target_is_an_unsent_502() -> None:
    up = upstream(2)
    for target in up.targets:
        target.healthy = False
    with pytest.raises(UpstreamError, match="no healthy target") as caught:
        up.pick()
    assert caught.value.status == 502
    assert not caught.value.sent


def test_build_upstreams_by_id() -> None:
    configs = (
        UpstreamConfig(id="a", targets=("http://127.0.0.1:1",)),
        UpstreamConfig(id="b", targets=("http://127.0.0.1:2",)),
    )
    assert sorted(build_upstreams(configs)) == ["a", "b"]


# -- active health checks against real servers --------------------------------------------


def test_a_failing_target_leaves_the_rotation_and_comes_back_when_healthy() -> None:
    status = {"value": 200}
    probes: list[str] = []

    async def flaky(peer: Peer) -> None:
        request = await peer.read_request()
        if request is None:
            return
        probes.append(request.target)
        code = status["value"]
        await peer.send(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % code)
        peer.close()

    async def steady(peer: Peer) -> None:
        while await peer.read_request() is not None:
            await peer.send(ok())

    async def go() -> None:
        async with ScriptedUpstream(flaky) as bad, ScriptedUpstream(steady) as good:
            config = UpstreamConfig(
                id="app",
                targets=(bad.url + "/base", good.url),
                health_check_path="/healthz",
                health_check_interval=0.05,
                connect_timeout=1.0,
            )
            up = Upstream(config)
            up.start()
            try:
                flaky_target, steady_target = up.targets
                await eventually_async(lambda: len(probes) >= 1, what="the health checks")
                assert flaky_target.healthy
                assert steady_target.healthy
                status["value"] = 503
                await eventually_async(lambda: not flaky_target.healthy, what="the health checks")
                assert {up.pick().port for _ in range(10)} == {good.port}
                status["value"] = 204
                await eventually_async(lambda: flaky_target.healthy, what="the health checks")
                assert {up.pick().port for _ in range(10)} == {bad.port, good.port}
                assert steady_target.healthy
                assert not steady_target.idle
            finally:
                await up.aclose()
            assert probes[0] == "/base/healthz"

    run(go())


def test_a_refusing_target_fails_its_check_and_returns_once_it_listens() -> None:
    async def go() -> None:
        server = await ScriptedUpstream(lambda peer: asyncio.sleep(0)).start()
        port = server.port
        await server.aclose()  # the port now refuses connections
        config = UpstreamConfig(
            id="app",
            targets=(f"http://127.0.0.1:{port}",),
            health_check_path="/",
            health_check_interval=0.05,
        )
        up = Upstream(config)
        up.start()
        try:
            await eventually_async(lambda: not up.targets[0].healthy, what="the health checks")
            with pytest.raises(UpstreamError, match="no healthy target"):
                up.pick()

            async def listen() -> asyncio.Server:
                async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                    await r.readuntil(b"\r\n\r\n")
                    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    await w.drain()
                    w.close()

                return await asyncio.start_server(handle, "127.0.0.1", port)

            revived = await listen()
            try:
                await eventually_async(lambda: up.targets[0].healthy, what="the health checks")
                assert up.pick() is up.targets[0]
                assert up.targets[0].parked_until == 0.0
            finally:
                revived.close()
                await revived.wait_closed()
        finally:
            await up.aclose()

    run(go())
