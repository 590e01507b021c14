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
from collections.abc import Callable

from glassgate.audit.records import token_fingerprint
from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.core.body_guard import BodyGuard
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.request import IPAddress
from glassgate.errors import (
    BreakglassAddressError,
    BreakglassSessionOverError,
    BreakglassTokenError,
    GlassgateError,
    SessionAddressError,
    SessionEndedError,
)
from glassgate.workflows.session_control import SessionControl
from glassgate.workflows.sessions import is_session_token
from glassgate.workflows.views import SESSION_COOKIE

__all__ = ["ISSUER", "BreakglassDoor", "refuse_token", "session_cookie", "strip_session_cookie"]

ISSUER = "glassgate:breakglass"
Headers = list[tuple[bytes, bytes]]
_COOKIE = SESSION_COOKIE.encode("ascii") + b"="
_log = logging.getLogger("glassgate.breakglass")


def session_cookie(headers: Headers) -> str | None:
    """The break-glass session cookie's value, if the request carries exactly one."""
    found: list[bytes] = []
    for name, value in headers:
        if name == b"cookie" and _COOKIE in value:
            found += [
                part.strip()[len(_COOKIE) :]
                for part in value.split(b";")
                if part.strip().startswith(_COOKIE)
            ]
    if len(found) != 1:
        return None  # none, or ambiguous: never pick one
    try:
        return found[0].decode("ascii")
    except UnicodeDecodeError:
        return None


def strip_session_cookie(headers: Headers) -> Headers:
    """The headers with our session cookie taken out of every Cookie header."""
    out: Headers = []
    for name, value in headers:
        if name == b"cookie" and _COOKIE in value:
            kept = [p.strip() for p in value.split(b";") if not p.strip().startswith(_COOKIE)]
            if kept:
                out.append((name, b"; ".join(kept)))
            continue
        out.append((name, value))
    return out


class BreakglassDoor:
    """Built per configuration (with its compiled policy); shared by both front doors."""

    def __init__(
        self,
        compiled: CompiledBreakglass,
        sessions: SessionControl,
        clock: Callable[[], float],
    ) -> None:
        self._compiled = compiled
        self._sessions = sessions
        self._clock = clock
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

    async def note_use(self, principal: Principal, route_id: str | None, allowed: bool) -> None:
        """Count the request (first-use and summary alerts, drill evidence); never raises."""
        if principal.kind is not CredentialKind.BREAKGLASS or principal.token_id is None:
            return
        try:
            await self._sessions.note_use(
                principal.token_id,
                succeeded=allowed,
                drill_route=route_id is not None and route_id == self._drill_route,
            )
        except GlassgateError as exc:  # the request's own audit record is already written
            _log.error("break-glass use of session %s not counted: %s", principal.token_id, exc)


def refuse_token(raw: str) -> BreakglassTokenError:
    """For doors without break-glass configured: a ``ggbg_`` token is refused outright."""
    del raw  # never echoed
    return BreakglassTokenError("break-glass is not configured here; the session token is refused")
