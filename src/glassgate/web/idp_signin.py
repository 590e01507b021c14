"""Console sign-in through the IdP: ``/sign-in/idp``, its callback, ``/sign-out/idp``.

- ``GET /sign-in/idp`` starts the code flow (``workflows.idp_signin``): a
  ``303`` to the IdP, and the login binding in a cookie scoped to the callback.
- ``GET /sign-in/idp/callback?state=...&code=...`` finishes it: the state must
  be the one this browser started (binding cookie), unused and unexpired; the
  code is exchanged with the PKCE verifier; the ID token is verified with the
  gate's keys, its audience and nonce. Then the session cookie ``gg_idp``
  (``Secure; HttpOnly; SameSite=Lax``: the IdP's redirect back is a top-level
  cross-site navigation) and a page naming who signed in. Any failure is one
  generic 400 page; the reason goes to the audit log.
- ``POST /sign-out/idp`` (CSRF-checked, like every form) ends the session.

The session also authenticates the grants API (``web.grants``), where unsafe
requests then need the CSRF token, like every cookie-authenticated request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from glassgate.errors import (
    AuditUnavailableError,
    AuthenticationFailedError,
    IdPUnavailableError,
)
from glassgate.web.pages import Pages
from glassgate.workflows.idp_signin import LOGIN_TTL, IdpSignIn

__all__ = ["IDP_COOKIE", "LOGIN_COOKIE", "idp_sign_in_routes"]

IDP_COOKIE = "gg_idp"  # gg_: the data plane never forwards it (identity_out)
LOGIN_COOKIE = "gg_idp_login"
CALLBACK = "/sign-in/idp/callback"
_LAX = "Secure; HttpOnly; SameSite=Lax"


def _cookie(name: str, value: str, max_age: float, path: str) -> str:
    return f"{name}={value}; Max-Age={max(int(max_age), 0)}; Path={path}; {_LAX}"


def idp_sign_in_routes(service: IdpSignIn, pages: Pages) -> list[BaseRoute]:
    def failed(request: Request, status: int, detail: str) -> Response:
        response = pages.render(
            request.scope, "message.html", status, heading="Sign-in failed", detail=detail
        )
        response.headers.append("set-cookie", _cookie(LOGIN_COOKIE, "", 0, CALLBACK))
        return response

    async def begin(request: Request) -> Response:
        try:
            start = await service.begin()
        except IdPUnavailableError:
            detail = "The identity provider cannot be reached; break-glass sign-in still works."
            return failed(request, 503, detail)
        response = RedirectResponse(start.url, status_code=303)
        cookie = _cookie(LOGIN_COOKIE, start.binding.reveal(), LOGIN_TTL, CALLBACK)
        response.headers.append("set-cookie", cookie)
        return response

    async def callback(request: Request) -> Response:
        params = request.query_params
        try:
            session, token = await service.finish(
                params.get("state", ""), params.get("code", ""), request.cookies.get(LOGIN_COOKIE)
            )
        except AuthenticationFailedError:
            return failed(request, 400, "The sign-in could not be completed; start it again.")
        except (IdPUnavailableError, AuditUnavailableError):
            return failed(request, 503, "The sign-in cannot be completed now; try again shortly.")
        response = pages.render(
            request.scope,
            "message.html",
            heading="Signed in",
            detail=f"Signed in as {session.subject} ({session.issuer}).",
            back="/grants",
        )
        max_age = session.expires_at - session.signed_in_at
        response.headers.append("set-cookie", _cookie(IDP_COOKIE, token.reveal(), max_age, "/"))
        response.headers.append("set-cookie", _cookie(LOGIN_COOKIE, "", 0, CALLBACK))
        return response

    async def sign_out(request: Request) -> Response:
        raw = request.cookies.get(IDP_COOKIE)
        try:
            if raw:
                await service.sign_out(raw)
        except AuditUnavailableError:
            return failed(request, 503, "Signing out cannot be recorded now; try again shortly.")
        response = pages.render(request.scope, "message.html", heading="Signed out")
        response.headers.append("set-cookie", _cookie(IDP_COOKIE, "", 0, "/"))
        return response

    handlers: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        ("/sign-in/idp", begin, "GET"),
        (CALLBACK, callback, "GET"),
        ("/sign-out/idp", sign_out, "POST"),
    ]
    return [Route(path, handler, methods=[method]) for path, handler, method in handlers]
