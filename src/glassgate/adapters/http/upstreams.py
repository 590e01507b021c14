"""Upstream targets: keep-alive pools, active health checks, load balancing, retries.

A target that fails its health check (or refuses connections) leaves the
rotation until it passes again; when every target is down the gateway answers
502 rather than guessing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from glassgate.adapters.http.upstream_conn import UpstreamConnection, UpstreamError
from glassgate.config.schema import UpstreamConfig

__all__ = ["Target", "Upstream", "UpstreamError", "build_upstreams"]

_MAX_IDLE = 64
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(slots=True)
class Target:
    """One upstream server and its idle connections."""

    host: str
    port: int
    base_path: str
    host_header: bytes
    idle: list[UpstreamConnection] = field(default_factory=list)
    in_flight: int = 0
    healthy: bool = True

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// upstream targets are supported, not {url!r}")
        port = parts.port or 80
        host_header = parts.netloc.rsplit("@", 1)[-1].encode("ascii")
        return cls(parts.hostname, port, parts.path.rstrip("/"), host_header)

    async def connect(self, timeout: float) -> UpstreamConnection:
        while self.idle:
            conn = self.idle.pop()
            if conn.usable:
                return conn
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(UpstreamConnection, self.host, self.port), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"cannot connect to {self.host}:{self.port}", sent=False) from exc
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        if conn.usable and len(self.idle) < _MAX_IDLE:
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class Upstream:
    """A named group of targets with a balancing strategy and health checks."""

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.targets = [Target.from_url(url) for url in config.targets]
        self._ring = itertools.cycle(range(len(self.targets)))
        self._health_task: asyncio.Task[None] | None = None

    def pick(self) -> Target:
        healthy = [t for t in self.targets if t.healthy] or self.targets
        if self.config.balance == "least_connections":
            return min(healthy, key=lambda t: t.in_flight)
        for _ in range(len(self.targets)):
            target = self.targets[next(self._ring)]
            if target.healthy or len(healthy) == len(self.targets):
                return target
        return healthy[0]

    def start(self) -> None:
        if self.config.health_check_path and self._health_task is None:
            self._health_task = asyncio.create_task(self._health_loop())

    async def aclose(self) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        for target in self.targets:
            target.close()

    async def _health_loop(self) -> None:
        while True:
            await asyncio.gather(*(self._probe(t) for t in self.targets))
            await asyncio.sleep(self.config.health_check_interval)

    async def _probe(self, target: Target) -> None:
        path = (target.base_path + (self.config.health_check_path or "/")).encode()
        head = b"GET " + path + b" HTTP/1.1\r\nHost: " + target.host_header + b"\r\n\r\n"
        try:
            conn = await target.connect(self.config.connect_timeout)
            conn.send_head(head, head_only=False)
            response = await conn.response(self.config.connect_timeout)
            while await response.body(self.config.connect_timeout) is not None:
                pass
            target.healthy = 200 <= response.status < 400
            target.release(conn)
        except UpstreamError:
            target.healthy = False


def build_upstreams(configs: tuple[UpstreamConfig, ...]) -> dict[str, Upstream]:
    return {config.id: Upstream(config) for config in configs}
