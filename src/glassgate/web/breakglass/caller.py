"""Who is calling the break-glass console, from where, and with which console session.

``BreakglassConsole.caller(request)`` gives a ``Caller``: the service of the
configuration now serving, the client address (``web.client``, as the data
plane finds it), and the console session the request presents. The session
is read from ``Authorization: Bearer`` when that header is present (API
tools) and then *only* from it, else from the ``gg_console`` cookie (the
browser): a request cannot mix a bearer header, which skips the CSRF check,
with an ambient cookie.

Cookies are ``Secure; HttpOnly; SameSite=Strict; Path=/``: script cannot read
them, other sites cannot make the browser send them, and they travel over
HTTPS (or to ``localhost``) only.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from glassgate.core.request import IPAddress
from glassgate.errors import AuthenticationFailedError, NotFoundError
from glassgate.ports import BreakglassSource, TrustedProxiesView
from glassgate.web.client import client_of
from glassgate.web.throttle import SignInThrottle
from glassgate.workflows.service import BreakglassService
from glassgate.workflows.views import Actor, CookieSpec

__all__ = [
    "CONSOLE_COOKIE",
    "BreakglassConsole",
    "Caller",
    "cookie",
    "expired_cookie",
    "path_id",
    "session_cookie",
]

CONSOLE_COOKIE = "gg_console"  # gg_: the data plane never forwards it (identity_out)
_ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Strict"


def cookie(name: str, value: str, max_age: float) -> str:
    """A ``Set-Cookie`` value for a session the browser keeps for ``max_age`` seconds."""
    return f"{name}={value}; Max-Age={max(int(max_age), 0)}; {_ATTRIBUTES}"


def expired_cookie(name: str) -> str:
    return f"{name}=; Max-Age=0; {_ATTRIBUTES}"


def session_cookie(spec: CookieSpec) -> str:
    """The break-glass session's cookie, as the service specifies it (the data plane reads it)."""
    return f"{spec.name}={spec.value.reveal()}; {spec.attributes}"


def path_id(request: Request) -> str:
    """The ``{id}`` of a request or session address, bounded (the service looks it up)."""
    return str(request.path_params["id"])[:64]


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    return request.cookies.get(CONSOLE_COOKIE)


@dataclass(frozen=True, slots=True)
class Caller:
    service: BreakglassService
    client: IPAddress
    session_token: str | None

    async def actor(self) -> Actor:
        """The signed-in identity; ``AuthenticationFailedError`` (401) without a valid session."""
        if not self.session_token:
            raise AuthenticationFailedError("console-session-missing")
        return await self.service.sign_in.actor(self.session_token, self.client)


@dataclass(frozen=True, slots=True)
class BreakglassConsole:
    """What the break-glass pages and API need from ``ConsoleServices``."""

    source: BreakglassSource
    proxies: TrustedProxiesView
    throttle: SignInThrottle

    def caller(self, request: Request) -> Caller:
        service = self.source.breakglass_service()
        if service is None:
            raise NotFoundError("break-glass access is not configured on this gateway")
        return Caller(service, client_of(request.scope, self.proxies), _presented(request))
