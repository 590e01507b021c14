"""Upstream targets: keep-alive pools, active health checks, load balancing.

Two ways a target leaves the rotation:

- **Active health checks** (``health_check_path``): a target whose probe fails
  or answers outside 2xx/3xx is out until a probe passes again. When every
  target is out, the gateway answers 502 rather than sending traffic to
  servers known to be down.
- **Passive parking**: a target that refuses a connection (or does not accept
  it in time) is skipped for ``_PARK_SECONDS`` while another target is
  available. Parking only orders the choice, it never empties it, so a single
  target that refused once is still tried on the next request.

Round-robin and least-connections both scan from a rotating start, so ties in
least-connections spread over the targets instead of piling onto the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from glassgate.adapters.http.upstream_conn import UpstreamConnection
from glassgate.config.schema import UpstreamConfig
from glassgate.errors import UpstreamError, UpstreamTimeoutError

__all__ = ["IDEMPOTENT", "Target", "Upstream", "UpstreamError", "build_upstreams"]

log = logging.getLogger("glassgate")

_MAX_IDLE = 64
_PARK_SECONDS = 5.0
_PROBE_BODY_LIMIT = 64 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(slots=True, eq=False)
class Target:
    """One upstream server and its idle connections."""

    host: str
    port: int
    base_path: str
    host_header: bytes
    idle: list[UpstreamConnection] = field(default_factory=list)
    in_flight: int = 0
    healthy: bool = True  # the active health check's verdict (True without checks)
    parked_until: float = 0.0  # monotonic time; a refused connection parks the target
    host_line: bytes = field(init=False, repr=False, default=b"")  # pre-encoded for each head

    def __post_init__(self) -> None:
        self.host_line = b"\r\nhost: " + self.host_header

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// upstream targets are supported, not {url!r}")
        port = parts.port or 80
        host_header = parts.netloc.rsplit("@", 1)[-1].encode("ascii")
        return cls(parts.hostname, port, parts.path.rstrip("/"), host_header)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self, timeout: float, *, fresh: bool = False) -> UpstreamConnection:
        """An idle keep-alive connection, or a new one (``fresh`` skips the pool)."""
        while self.idle and not fresh:
            conn = self.idle.pop()
            if conn.usable:
                conn.reused = True
                return conn
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(UpstreamConnection, self.host, self.port), timeout
            )
        except TimeoutError:
            self.parked_until = time.monotonic() + _PARK_SECONDS
            raise UpstreamTimeoutError(f"connecting to {self.name} timed out", sent=False) from None
        except OSError as exc:
            self.parked_until = time.monotonic() + _PARK_SECONDS
            raise UpstreamError(f"cannot connect to {self.name}: {exc}", sent=False) from exc
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
        self._least = config.balance == "least_connections"
        self._cursor = 0
        self._health_task: asyncio.Task[None] | None = None

    def pick(self, avoid: Target | None = None) -> Target:
        """The next target; ``avoid`` (the one that just failed) only if nothing else is up."""
        targets = self.targets
        count = len(targets)
        start = self._cursor
        now = time.monotonic()
        best: Target | None = None
        best_index = start
        fallback: Target | None = None
        for step in range(count):
            index = (start + step) % count
            target = targets[index]
            if not target.healthy:
                continue
            if target is avoid or target.parked_until > now:
                if fallback is None or fallback is avoid:
                    fallback = target
                continue
            if best is None or target.in_flight < best.in_flight:
                best, best_index = target, index
                if not self._least:
                    break
        if best is not None:
            self._cursor = (best_index + 1) % count
            return best
        if fallback is not None:
            self._cursor = (start + 1) % count
            return fallback
        raise UpstreamError(f"upstream {self.config.id!r} has no healthy target", sent=False)

    def start(self) -> None:
        if self.config.health_check_path and self._health_task is None:
            self._health_task = asyncio.create_task(self._health_loop())

    async def aclose(self) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
            self._health_task = None
        for target in self.targets:
            target.close()

    async def _health_loop(self) -> None:
        while True:
            try:
                await asyncio.gather(*(self._check(t) for t in self.targets))
            except Exception:  # a bug here must not end health checking for good
                log.exception("health check of upstream %s failed", self.config.id)
            await asyncio.sleep(self.config.health_check_interval)

    async def _check(self, target: Target) -> None:
        try:
            healthy = await self._probe(target)
            why = "" if healthy else "answered outside 2xx/3xx"
        except UpstreamError as exc:
            healthy, why = False, str(exc)
        if healthy and not target.healthy:
            log.info("upstream %s target %s is healthy again", self.config.id, target.name)
        elif not healthy and target.healthy:
            log.warning(
                "upstream %s target %s failed its check: %s", self.config.id, target.name, why
            )
        target.healthy = healthy
        if healthy:
            target.parked_until = 0.0

    async def _probe(self, target: Target) -> bool:
        """One GET on a connection of its own: a stale pooled one must not fail the check."""
        timeout = self.config.connect_timeout
        path = (target.base_path + (self.config.health_check_path or "/")).encode()
        head = (
            b"GET "
            + path
            + b" HTTP/1.1\r\nhost: "
            + target.host_header
            + b"\r\nuser-agent: glassgate-health-check\r\nconnection: close\r\n\r\n"
        )
        conn = await target.connect(timeout, fresh=True)
        try:
            conn.send_head(head, head_only=False)
            response = await conn.response(timeout)
            read = 0
            while read <= _PROBE_BODY_LIMIT and (chunk := await response.body(timeout)) is not None:
                read += len(chunk)
            return 200 <= response.status < 400
        finally:
            conn.close()


def build_upstreams(configs: tuple[UpstreamConfig, ...]) -> dict[str, Upstream]:
    return {config.id: Upstream(config) for config in configs}
