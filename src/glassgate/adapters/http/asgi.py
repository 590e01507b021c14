"""The gateway as one ASGI application: internal endpoints, then the proxy door.

Internal endpoints are matched on the exact raw path before anything else:
``/healthz`` (200 once tokens can be verified), ``/.well-known/jwks.json`` (the
gateway's own signing keys), then the forward-auth door when it is enabled.
Every other request goes through the gate; an allowed one is forwarded.
Unexpected failures answer 502/500 and never pass a request through (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from glassgate.adapters.clock import now
from glassgate.adapters.config_watch import StableFile, fingerprint, when_stable
from glassgate.adapters.http.breakglass import BreakglassDoor
from glassgate.adapters.http.forward_auth import door_for, forward_auth
from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import upstream_identity
from glassgate.adapters.http.inbound import read_request
from glassgate.adapters.http.outbound import (
    Answer,
    answer_for_audit_failure,
    answer_for_decision,
    answer_for_rejection,
    answer_for_unavailable_credential,
    answer_forbidden,
)
from glassgate.adapters.http.proxy import Forward, forward
from glassgate.adapters.http.upstreams import Upstream
from glassgate.adapters.http.websocket import Tunnel, TunnelReport, refuse, tunnel
from glassgate.audit.tunnel_events import TunnelFigures, tunnel_event
from glassgate.core.principal import CredentialKind
from glassgate.errors import (
    AuditUnavailableError,
    BodyTooLargeError,
    ClientGoneError,
    ClientTimeoutError,
    CredentialUnavailableError,
    RequestRejectedError,
    UpstreamError,
)
from glassgate.ports import AuditAppender, ServingState, StateSource
from glassgate.tokens.downstream import IdentitySigner
from glassgate.types import Headers, Receive, Scope, Send

__all__ = ["GatewayApp"]

log = logging.getLogger("glassgate")


_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_WATCH_INTERVAL = 2.0  # also how far apart two reads must agree before a reload
_HTTP_SCHEME = {"ws": "http", "wss": "https"}  # X-Forwarded-Proto of an upgrade request


async def _answer(send: Send, answer: Answer) -> None:
    headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _plain(status: int, body: bytes) -> Answer:
    return Answer(status, list(_JSON), body)


def _breakglass_door(state: ServingState, result: GateResult) -> BreakglassDoor | None:
    """The door when a break-glass session made this request (one attribute test otherwise)."""
    principal = result.principal
    if principal is None or principal.kind is not CredentialKind.BREAKGLASS:
        return None
    return state.breakglass_door


def _too_large() -> Answer:
    """413, and the server closes the connection rather than read the rest of the body."""
    return Answer(413, [*_JSON, (b"connection", b"close")], b'{"error":"payload_too_large"}')


class GatewayApp:
    """ASGI entry point; ``holder`` owns the current state and reloads it.

    ``holder`` is any ``ports.StateSource`` (``app.StateHolder`` in the product):
    this module never imports the composition root.
    """

    def __init__(
        self,
        holder: StateSource,
        signer: IdentitySigner,
        watch: bool = True,
        audit: AuditAppender | None = None,
    ) -> None:
        self.holder = holder
        self._signer = signer
        self._watch = watch
        self._audit = audit  # where a closed WebSocket tunnel is recorded (None: no audit log)
        self._watcher: asyncio.Task[None] | None = None
        self._reloads: set[asyncio.Future[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.holder.state
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if raw_path == b"/healthz":
            ok = state.ready
            body = b'{"status":"ok"}' if ok else b'{"status":"starting"}'
            await _answer(send, _plain(200 if ok else 503, body))
            return
        if raw_path == b"/.well-known/jwks.json":
            await _answer(send, _plain(200, self._signer.jwks()))
            return
        config = state.loaded.config.forward_auth
        door = door_for(config, raw_path)
        try:
            if door is not None:
                answer = await forward_auth(door, config, state, self._signer, scope)
                await _answer(send, answer)
            else:
                await self._proxy(state, scope, raw_path, receive, send)
        except RequestRejectedError as exc:
            await _answer(send, answer_for_rejection(exc))
        except AuditUnavailableError:
            log.error("request refused: its audit record could not be written")
            await _answer(send, answer_for_audit_failure())
        except CredentialUnavailableError:  # the component that failed reports it, rate-limited
            await _answer(send, answer_for_unavailable_credential())

    async def _proxy(
        self, state: ServingState, scope: Scope, raw_path: bytes, receive: Receive, send: Send
    ) -> None:
        admitted = await self._admit(state, scope, raw_path, scope["method"])
        if isinstance(admitted, Answer):
            await _answer(send, admitted)
            return
        result, upstream, extra = admitted
        limit = state.loaded.config.limits.max_body_bytes
        if result.facts.content_length is not None and result.facts.content_length > limit:
            await _answer(send, _too_large())
            return
        door = _breakglass_door(state, result)
        if door is not None:  # the guard reads the body first; the sealed header joins
            prepared = await door.prepare(result, extra, receive)
            if isinstance(prepared, Answer):
                await _answer(send, prepared)
                return
            extra, receive = prepared
        try:
            await forward(Forward(upstream, extra, limit), result, scope["headers"], receive, send)
            if door is not None:
                await door.note_use(result)
        except BodyTooLargeError:
            await _answer(send, _too_large())
        except ClientTimeoutError:
            await _answer(send, _plain(408, b'{"error":"request_timeout"}'))
        except ClientGoneError:
            return
        except UpstreamError as exc:  # before the response started: 504 for timeouts, else 502
            log.warning("upstream %s failed: %s", upstream.config.id, exc)
            if exc.status == 504:
                await _answer(send, _plain(504, b'{"error":"gateway_timeout"}'))
            else:
                await _answer(send, _plain(502, b'{"error":"bad_gateway"}'))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An upgrade request: gated like any GET, refused before the upgrade or tunnelled."""
        if (await receive())["type"] != "websocket.connect":
            return
        state = self.holder.state
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        try:
            admitted = await self._admit(state, scope, raw_path, "GET")
        except RequestRejectedError as exc:
            admitted = answer_for_rejection(exc)
        except CredentialUnavailableError:
            admitted = answer_for_unavailable_credential()
        if isinstance(admitted, Answer):
            await refuse(scope, send, admitted)
            return
        result, upstream, extra = admitted
        if _breakglass_door(state, result) is not None:  # no guard or sealed header here
            await refuse(scope, send, answer_forbidden("breakglass-websocket-denied"))
            return
        limits = self._tunnel_limits(state, result)
        report = await tunnel(
            upstream, result, scope["headers"], extra, scope, receive, send, limits
        )
        if report is not None:
            await self._audit_tunnel(result, report)

    def _tunnel_limits(self, state: ServingState, result: GateResult) -> Tunnel:
        """The tunnel's limits from the serving config, and its credential's end."""
        config = state.loaded.config.limits
        principal, token, gate = result.principal, result.facts.token, state.gate
        still_valid = None
        if principal is not None and token is not None:

            async def still_valid() -> bool:
                return await gate.still_authenticates(token)

        return Tunnel(
            config.websocket_idle_timeout,
            config.websocket_max_lifetime,
            principal.expires_at if principal is not None else None,
            still_valid,
        )

    async def _audit_tunnel(self, result: GateResult, report: TunnelReport) -> None:
        """The ``websocket.close`` record; the tunnel is gone, so a failure is only logged."""
        log.info(
            "websocket closed by %s (code %d) after %.1fs: %d bytes up, %d bytes down",
            report.closed_by,
            report.code,
            report.seconds,
            report.to_upstream,
            report.to_client,
        )
        if self._audit is None:
            return
        figures = TunnelFigures(
            report.target,
            report.to_upstream,
            report.to_client,
            report.seconds,
            report.closed_by,
            report.code,
        )
        event = tunnel_event(
            result.facts.request, result.principal, result.decision.route_id, figures, at=now()
        )
        try:
            await self._audit.append(event)
        except AuditUnavailableError:
            log.error("the audit record of a closed WebSocket tunnel could not be written")

    async def _admit(
        self, state: ServingState, scope: Scope, raw_path: bytes, method: str
    ) -> tuple[GateResult, Upstream, Headers] | Answer:
        """Gate one request; an allowed one comes back with its upstream and identity headers."""
        headers: Headers = scope["headers"]
        client = scope.get("client")
        facts = read_request(
            state.inbound,
            method,
            raw_path,
            scope.get("query_string", b""),
            headers,
            client[0] if client else None,
        )
        result = await state.gate.check(facts)
        if not result.decision.allowed:
            return answer_for_decision(result.decision, result.quota)
        route = result.route
        upstream = state.upstreams.get(route.upstream or "") if route is not None else None
        if upstream is None or route is None:
            return _plain(502, b'{"error":"no_upstream"}')
        scheme: str = scope["scheme"]
        scheme = _HTTP_SCHEME.get(scheme, scheme)
        extra = upstream_identity(result, route, self._signer, scheme)
        return result, upstream, extra

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
                # Everything built at start lives for the process: keep it out of every
                # later collection (each request allocates; scanning these is wasted work).
                gc.freeze()
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
        task = asyncio.ensure_future(self._reload_when_stable())
        self._reloads.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._reloads.discard)

    async def _reload_when_stable(self) -> None:
        """SIGHUP: reload once the file has stopped changing (a rewrite may be under way)."""
        await when_stable(self.holder.path, _WATCH_INTERVAL)
        await self.holder.reload()

    async def _watch_file(self) -> None:
        """Reload a changed file once it is the same in two polls in a row (``config_watch``)."""
        watch = StableFile(fingerprint(self.holder.path))
        while True:
            await asyncio.sleep(_WATCH_INTERVAL)
            if watch.observe(fingerprint(self.holder.path)):
                await self.holder.reload()
