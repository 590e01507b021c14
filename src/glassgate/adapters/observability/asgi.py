"""ASGI wrapper: times every request, writes its access line, serves ``/metrics``.

``/metrics`` is answered only to a client whose TCP peer address is in
``observability.metrics_allow`` and whose request carries no proxy forwarding
header (a request relayed by a proxy is never a direct scrape); everyone else
gets the same 404 as a path that does not exist, so the endpoint cannot be
discovered from outside. The internal ``/healthz`` and JWKS endpoints are
neither timed nor logged: probes would drown the access log. A WebSocket
upgrade gets its line and metrics when it is answered: 101, or the refusal.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from glassgate.adapters.observability.access_log import CURRENT, Exchange, access_line
from glassgate.adapters.observability.log_format import ACCESS_LOGGER, emit_access_line
from glassgate.adapters.observability.metrics import GatewayMetrics
from glassgate.config.schema import ObservabilityConfig
from glassgate.core.decision import Outcome
from glassgate.ports import ConfigSource
from glassgate.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ObservedApp"]


_QUIET = frozenset({b"/healthz", b"/.well-known/jwks.json"})
_FORWARDING = frozenset(
    {b"forwarded", b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"x-real-ip"}
)
_NOT_FOUND = b'{"error":"not_found"}'
_access = logging.getLogger(ACCESS_LOGGER)


@dataclass(frozen=True, slots=True)
class _Settings:
    source: ObservabilityConfig
    metrics_path: bytes | None
    allow: tuple[IPv4Network | IPv6Network, ...]

    @classmethod
    def of(cls, config: ObservabilityConfig) -> _Settings:
        path = config.metrics_path.encode() if config.metrics else None
        return cls(config, path, tuple(ip_network(cidr) for cidr in config.metrics_allow))

    def may_scrape(self, scope: Scope) -> bool:
        client = scope.get("client")
        if scope["method"] not in ("GET", "HEAD") or not client:
            return False
        if any(name in _FORWARDING for name, _ in scope["headers"]):
            return False
        try:
            address = ip_address(client[0])
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.allow)


class ObservedApp:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics, config: ConfigSource) -> None:
        self._app = app
        self._metrics = metrics
        self._config = config
        self._settings: _Settings | None = None

    def _current(self) -> _Settings:
        config = self._config.observability()
        settings = self._settings
        if settings is None or settings.source is not config:
            settings = self._settings = _Settings.of(config)
        return settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._upgrade(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if raw_path in _QUIET:
            await self._app(scope, receive, send)
            return
        settings = self._current()
        if raw_path == settings.metrics_path:
            await self._serve_metrics(scope, send, settings)
            return
        exchange = Exchange(time.perf_counter())
        token = CURRENT.set(exchange)

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        except BaseException:
            exchange.status = exchange.status or 500
            raise
        finally:
            CURRENT.reset(token)
            self._finish(scope, raw_path, exchange, settings)

    async def _upgrade(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: its line and metrics when it is answered (101, or the refusal's
        status; a close before accepting is the server's 403), not when the tunnel ends."""
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        settings = self._current()
        exchange = Exchange(time.perf_counter())
        token = CURRENT.set(exchange)
        finished = False

        def finish(status: int) -> None:
            nonlocal finished
            if not finished:
                finished = True
                exchange.status = status
                self._finish(scope, raw_path, exchange, settings)

        async def observed_send(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                finish(101)
            elif kind == "websocket.http.response.start":
                finish(message["status"])
            elif kind == "websocket.close":
                finish(403)
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        finally:
            CURRENT.reset(token)
            finish(0)  # the client left before any answer

    def _finish(
        self, scope: Scope, raw_path: bytes, exchange: Exchange, settings: _Settings
    ) -> None:
        seconds = time.perf_counter() - exchange.started
        result = exchange.result
        route = result.decision.route_id if result is not None else None
        self._metrics.observe_request(route, exchange.status, seconds, result is not None)
        config = settings.source
        if not config.access_log or not _access.isEnabledFor(logging.INFO):
            return
        if (
            result is not None
            and result.decision.outcome is Outcome.ALLOW
            and config.decision_log_sample < 1.0
            and random.random() >= config.decision_log_sample  # noqa: S311 - sampling, not security
        ):
            return
        client = scope.get("client")
        method: str = scope.get("method", "GET")  # an upgrade's scope has none: it is a GET
        line = access_line(exchange, method, raw_path, client[0] if client else None, seconds)
        emit_access_line(line)

    async def _serve_metrics(self, scope: Scope, send: Send, settings: _Settings) -> None:
        if settings.may_scrape(scope):
            status, kind, body = (
                200,
                CONTENT_TYPE_LATEST.encode(),
                generate_latest(self._metrics.registry),
            )
        else:
            status, kind, body = 404, b"application/json", _NOT_FOUND
        headers = [
            (b"content-type", kind),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
