"""The gateway as one ASGI application: internal endpoints, then the proxy door.

Internal endpoints are matched on the exact raw path before anything else:
``/healthz`` (200 once tokens can be verified), ``/.well-known/jwks.json`` (the
gateway's own signing keys). Every other request goes through the gate; an
allowed one is forwarded. Unexpected failures answer 502/500 and never pass a
request through (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import identity_headers
from glassgate.adapters.http.inbound import read_request
from glassgate.adapters.http.outbound import Answer, answer_for_decision, answer_for_rejection
from glassgate.adapters.http.proxy import BodyTooLargeError, Forward, forward
from glassgate.adapters.http.upstream_conn import UpstreamError
from glassgate.app import GatewayState, StateHolder
from glassgate.errors import RequestRejectedError

__all__ = ["GatewayApp"]

log = logging.getLogger("glassgate")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_WATCH_INTERVAL = 2.0


async def _answer(send: Send, answer: Answer) -> None:
    headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _plain(status: int, body: bytes) -> Answer:
    return Answer(status, list(_JSON), body)


class GatewayApp:
    """ASGI entry point; ``holder`` owns the current state and reloads it."""

    def __init__(self, holder: StateHolder, watch: bool = True) -> None:
        self.holder = holder
        self._watch = watch
        self._watcher: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.holder.state
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if raw_path == b"/healthz":
            ok = state.ready
            body = b'{"status":"ok"}' if ok else b'{"status":"starting"}'
            await _answer(send, _plain(200 if ok else 503, body))
            return
        if raw_path == b"/.well-known/jwks.json":
            await _answer(send, _plain(200, self.holder.runtime.signer.jwks()))
            return
        try:
            await self._proxy(state, scope, raw_path, receive, send)
        except RequestRejectedError as exc:
            await _answer(send, answer_for_rejection(exc))

    async def _proxy(
        self, state: GatewayState, scope: Scope, raw_path: bytes, receive: Receive, send: Send
    ) -> None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        client = scope.get("client")
        facts = read_request(
            state.inbound,
            scope["method"],
            raw_path,
            scope.get("query_string", b""),
            headers,
            client[0] if client else None,
        )
        result = await state.gate.check(facts)
        if not result.decision.allowed:
            await _answer(send, answer_for_decision(result.decision, result.quota))
            return
        if facts.content_length is not None and facts.content_length > (
            state.loaded.config.limits.max_body_bytes
        ):
            await _answer(send, _plain(413, b'{"error":"payload_too_large"}'))
            return
        await self._forward(state, result, scope, headers, receive, send)

    async def _forward(
        self,
        state: GatewayState,
        result: GateResult,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        receive: Receive,
        send: Send,
    ) -> None:
        route = state.gate.policy_route(result.decision.route_id)
        upstream = state.upstreams.get(route.upstream or "") if route is not None else None
        if upstream is None or route is None:
            await _answer(send, _plain(502, b'{"error":"no_upstream"}'))
            return
        jwt = None
        if result.principal is not None:
            jwt = self.holder.runtime.signer.token_for(
                result.principal, upstream.config.id, route.forward_groups, state.gate.now()
            )
        extra = identity_headers(
            result.principal, result.facts.request, route.forward_groups, jwt, scope["scheme"]
        )
        fwd = Forward(upstream, extra, state.loaded.config.limits.max_body_bytes)
        try:
            await forward(fwd, result, headers, receive, send)
        except BodyTooLargeError:
            await _answer(send, _plain(413, b'{"error":"payload_too_large"}'))
        except UpstreamError as exc:
            log.warning("upstream %s failed: %s", upstream.config.id, exc)
            await _answer(send, _plain(502, b'{"error":"bad_gateway"}'))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.holder.start()
                except Exception as exc:  # noqa: BLE001 - reported to the server, which exits
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self._install_reload()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._watcher is not None:
                    self._watcher.cancel()
                await self.holder.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _install_reload(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self._schedule_reload)
        if self._watch:
            self._watcher = asyncio.create_task(self._watch_file())

    def _schedule_reload(self) -> None:
        task = asyncio.ensure_future(self.holder.reload())
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _watch_file(self) -> None:
        last = _mtime(self.holder.path)
        while True:
            await asyncio.sleep(_WATCH_INTERVAL)
            current = _mtime(self.holder.path)
            if current != last:
                last = current
                await self.holder.reload()


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
