"""The Redis quota store from the config, through a real gateway, with Redis stopped mid-load.

``quotas.store.redis`` puts the counters in a real throwaway ``redis-server``
(its own, so that stopping it leaves the session's server alone). While
requests flow on two routes, Redis is stopped and started again on the same
port: the tier that fails closed answers 503 with ``Retry-After`` during the
outage, the tier that fails open keeps answering 200, neither ever answers
500, and both are metered again once Redis is back. Every pass and refusal
is counted in ``glassgate_decisions_total`` with reason
``quota-store-unavailable``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.metrics import sample
from tests.support.polling import eventually
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration


class Load:
    """Requests on the given paths, back to back, from a thread; every answer is kept."""

    def __init__(self, url: str, token: str, paths: tuple[str, ...]) -> None:
        self.answers: list[tuple[float, str, int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, token, paths), daemon=True)

    def _run(self, url: str, token: str, paths: tuple[str, ...]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            while not self._stop.is_set():
                for path in paths:
                    response = client.get(path)
                    retry = response.headers.get("retry-after")
                    self.answers.append((time.monotonic(), path, response.status_code, retry))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def since(self, moment: float, path: str) -> list[tuple[int, str | None]]:
        return [(s, r) for t, p, s, r in list(self.answers) if t >= moment and p == path]


@pytest.fixture
def redis(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    """Our own server to stop and start (``redis_server`` only decides skip or fail)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_stopped_and_restarted_mid_load(
    redis: RedisServer, oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    import redis as redis_py

    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        quotas={
            "store": {"redis": {"url": redis.url, "timeout": "200ms", "prefix": "gw-test:"}},
            "strict": {"rate": 1000, "per": "1s", "burst": 1000},
            "lenient": {"rate": 1000, "per": "1s", "burst": 1000, "when_store_down": "open"},
            "small": {"rate": 1, "per": "60s", "burst": 2},
        },
        routes=[
            {"id": "strict", "match": {"path": "/strict/*"}, "upstream": "app", "quota": "strict"},
            {
                "id": "lenient",
                "match": {"path": "/lenient/*"},
                "upstream": "app",
                "quota": "lenient",
            },
            {"id": "small", "match": {"path": "/small/*"}, "upstream": "app", "quota": "small"},
        ],
    )
    write_config(tmp_path / "gw.yaml", config)
    gateway = GatewayProcess(tmp_path / "gw.yaml", {}, tmp_path / "gw.log")
    gateway.start()
    token = oidc_provider.token(claims={"sub": "redis-load"})
    auth = {"Authorization": f"Bearer {token}"}
    try:
        # the counters are in Redis: a burst of 2, then 429; the keys carry our prefix
        small = [httpx.get(gateway.url + "/small/x", headers=auth).status_code for _ in range(3)]
        assert small == [200, 200, 429]
        client = redis_py.Redis.from_url(redis.url)
        try:
            assert client.keys("gw-test:small:*")
        finally:
            client.close()

        with Load(gateway.url, token, ("/strict/x", "/lenient/x")) as load:
            eventually(lambda: len(load.since(0, "/strict/x")) >= 20, what="load", timeout=30)
            stopping = time.monotonic()
            redis.stop()
            stopped = time.monotonic()
            eventually(
                lambda: any(s == 503 for s, _ in load.since(stopped, "/strict/x")),
                what="a 503 on the strict tier",
                timeout=30,
            )
            eventually(
                lambda: len(load.since(stopped, "/lenient/x")) >= 20,
                what="lenient requests during the outage",
                timeout=30,
            )
            redis.start()
            restarted = time.monotonic()
            eventually(
                lambda: [s for s, _ in load.since(restarted, "/strict/x")][-5:] == [200] * 5,
                what="the strict tier metered again",
                timeout=30,
            )

        before = [s for t, p, s, _ in load.answers if t < stopping]
        assert set(before) == {200}
        statuses = {s for _, _, s, _ in load.answers}
        assert statuses <= {200, 503}, statuses  # never a 500, never a 429
        refused = [(s, r) for s, r in load.since(stopping, "/strict/x") if s == 503]
        assert refused
        assert all(retry == "5" for _, retry in refused)
        outage = load.since(stopped, "/lenient/x")
        assert {s for s, _ in outage} == {200}  # open: served throughout
        assert [s for s, _ in load.since(restarted, "/strict/x")][-5:] == [200] * 5
        unavailable = sample(
            gateway.url,
            "glassgate_decisions_total",
            outcome="unavailable",
            route="strict",
            reason="quota-store-unavailable",
        )
        passed = sample(
            gateway.url,
            "glassgate_decisions_total",
            outcome="allow",
            route="lenient",
            reason="quota-store-unavailable",
        )
        assert unavailable == len(refused)
        assert passed >= 1
    finally:
        gateway.stop()
    log = (tmp_path / "gw.log").read_text()
    assert log.count("the quota store cannot be asked") >= 1
    assert "Traceback" not in log
    assert redis.url not in log
