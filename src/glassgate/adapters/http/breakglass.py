"""Break-glass at the data plane: session → principal, sealed credentials, body guards.

A ``ggbg_`` token (``Authorization: Bearer``, for API tools) or the
``gg_breakglass`` cookie (the browser) names a break-glass session. It is
checked against the store on every request (break-glass traffic is rare; an
ended session is refused at once, on every instance), from the address it
started from, and becomes a ``breakglass`` principal whose route scope is
the session's (recovery routes, or the drill route). Every other route
answers 403 ``breakglass-out-of-scope``; every request is a privileged,
durably audited decision.

On a recovery route with a sealed credential, the gateway adds that header
upstream, for a break-glass principal only; the client's own session token
(header or cookie) is never forwarded. A route with a body guard has its
body checked before anything is forwarded.

Ordinary requests pay one prefix test on a token they already carry, and a
dictionary miss on the cookie name only when a Cookie header is present.
"""

from __future__ import annotations

import logging

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.outbound import Answer, answer_forbidden
from glassgate.audit.records import AuditEvent
from glassgate.audit.screening import redact_text
from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.core.body_guard import BodyGuard, GuardVerdict
from glassgate.core.principal import CredentialKind, Principal, token_fingerprint
from glassgate.core.request import IPAddress
from glassgate.errors import (
    BreakglassAddressError,
    BreakglassSessionOverError,
    BreakglassTokenError,
    ClientGoneError,
    CredentialUnavailableError,
    GlassgateError,
    SessionAddressError,
    SessionEndedError,
    StorageUnavailableError,
)
from glassgate.ports import AuditAppender
from glassgate.types import Headers, Message, Receive
from glassgate.workflows.session_control import SessionControl
from glassgate.workflows.sessions import is_session_token

__all__ = ["ISSUER", "BreakglassDoor", "refuse_token"]

ISSUER = "glassgate:breakglass"
_log = logging.getLogger("glassgate.breakglass")


class BreakglassDoor:
    """Built per configuration (with its compiled policy); shared by both front doors."""

    def __init__(
        self, compiled: CompiledBreakglass, sessions: SessionControl, audit: AuditAppender
    ) -> None:
        self._compiled = compiled
        self._sessions = sessions
        self._audit = audit
        drill = compiled.policy.drill_route
        self._drill_route = drill
        self._sealed = {
            route: (credential.header, credential.value.reveal().encode("ascii"))
            for route, credential in compiled.sealed.items()
        }

    @staticmethod
    def is_session_token(raw: str) -> bool:
        return is_session_token(raw)

    async def authenticate(self, raw: str, client: IPAddress) -> Principal:
        """The session's principal, or a ``BreakglassTokenError`` (401, audited with detail)."""
        try:
            session = await self._sessions.check(raw, client)
        except SessionAddressError as exc:
            raise BreakglassAddressError(str(exc)) from None
        except SessionEndedError as exc:
            raise BreakglassSessionOverError(str(exc)) from None
        except StorageUnavailableError as exc:  # 503 with Retry-After: the session may be fine
            raise CredentialUnavailableError(
                f"break-glass sessions cannot be checked: {exc}"
            ) from exc
        compiled = self._compiled
        return Principal(
            subject=f"breakglass:{session.account}",
            issuer=ISSUER,
            groups=compiled.groups,
            amr=compiled.amr,
            acr=compiled.acr,
            auth_time=int(session.started_at),
            expires_at=session.expires_at,
            token_id=session.id,
            token_hash=token_fingerprint(raw),
            kind=CredentialKind.BREAKGLASS,
            route_scope=frozenset(session.scope),
        )

    def sealed_header(
        self, principal: Principal | None, route_id: str | None
    ) -> tuple[bytes, bytes] | None:
        """The sealed upstream credential for this route, for a break-glass principal only."""
        if principal is None or principal.kind is not CredentialKind.BREAKGLASS:
            return None
        if (
            route_id is None
            or principal.route_scope is None
            or route_id not in principal.route_scope
        ):
            return None
        return self._sealed.get(route_id)

    def guard(self, principal: Principal | None, route_id: str | None) -> BodyGuard | None:
        if principal is None or principal.kind is not CredentialKind.BREAKGLASS or route_id is None:
            return None
        return self._compiled.guards.get(route_id)

    async def note_use(self, result: GateResult) -> None:
        """Count a forwarded request (first-use and summary alerts, drill evidence).

        Never raises: the request's own decision record is already written.
        """
        principal, route = result.principal, result.route
        if principal is None or principal.kind is not CredentialKind.BREAKGLASS:
            return
        if principal.token_id is None:
            return
        try:
            await self._sessions.note_use(
                principal.token_id,
                succeeded=result.decision.allowed,
                drill_route=route is not None and route.id == self._drill_route,
            )
        except GlassgateError as exc:  # the request's own audit record is already written
            _log.error("break-glass use of session %s not counted: %s", principal.token_id, exc)

    def needs_proxy(self, result: GateResult) -> bool:
        """Whether this route's body guard or sealed credential needs the proxy door."""
        route = result.route
        if route is None:
            return False
        return route.id in self._compiled.guards or route.id in self._sealed

    async def prepare(
        self, result: GateResult, extra: Headers, receive: Receive
    ) -> tuple[Headers, Receive] | Answer:
        """Before forwarding an allowed break-glass request: the guard, then the sealed header.

        A guarded route's body is read (up to its cap) and checked before a
        byte goes upstream; a refusal is audited durably and answered 403.
        """
        principal, route = result.principal, result.route
        route_id = route.id if route is not None else None
        guard = self.guard(principal, route_id)
        if guard is not None and principal is not None:
            body, replay = await _read_body(receive, guard.max_body_bytes)
            request = result.facts.request
            verdict = (
                GuardVerdict.TOO_LARGE
                if body is None
                else guard.check(body, request.method, request.path)
            )
            if verdict is not GuardVerdict.OK:
                await self._record_refusal(principal, route_id, result, verdict)
                return answer_forbidden(verdict.value)
            receive = replay
        sealed = self.sealed_header(principal, route_id)
        return ([*extra, sealed] if sealed is not None else extra), receive

    async def _record_refusal(
        self, principal: Principal, route_id: str | None, result: GateResult, verdict: GuardVerdict
    ) -> None:
        request = result.facts.request
        await self._audit.append(
            AuditEvent(
                type="breakglass.session.body-refused",
                outcome="refused",
                at=result.decided_at,
                subject=principal.subject,
                actor=principal.subject,
                route=route_id,
                reasons=(verdict.value,),
                jti=principal.token_id,
                token_hash=principal.token_hash or None,
                details={
                    "method": redact_text(request.method, 32),
                    "path": redact_text(request.path, 2048),
                    "client_ip": str(request.client_ip),
                },
            )
        )


async def _read_body(receive: Receive, cap: int) -> tuple[bytes | None, Receive]:
    """The whole body (None when over ``cap``), and a ``receive`` that replays it once."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGoneError("the client went away while sending its body")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def refuse_token(raw: str) -> BreakglassTokenError:
    """For doors without break-glass configured: a ``ggbg_`` token is refused outright."""
    del raw  # never echoed
    return BreakglassTokenError("break-glass is not configured here; the session token is refused")
