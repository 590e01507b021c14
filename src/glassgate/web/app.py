"""create_console_app: the console's ASGI app, from the services it needs.

The composition root (``app.compose``) builds ``ConsoleServices`` and calls
this; the app is served on its own listener (``console.listen``), never on the
data-plane port. Outside in, every request meets:

1. ``SecurityHeaders`` (web.security): on every answer, refusals included;
2. ``RequestGuard`` (web.guard): readable cookies; unsafe requests carry JSON
   or a form, capped, read whole;
3. the CSRF check (web.csrf): every unsafe request echoes the cookie's token;
4. Starlette: the JSON API (an explicit registry of ``Operation``s, from which
   ``/api/openapi.json`` is generated), the server-rendered pages, and the one
   script and stylesheet under ``/static/``.

Handlers call the services in ``ConsoleServices``, never storage.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from glassgate import __version__
from glassgate.adapters.clock import now
from glassgate.ports import BreakglassSource, GrantsSource, Readiness, TrustedProxiesView
from glassgate.types import ASGIApp, Clock, Scope, Send
from glassgate.web.answers import error_answer
from glassgate.web.api import MAX_BODY_BYTES, Operation, Reply, starlette_routes
from glassgate.web.breakglass import BreakglassConsole, breakglass_operations, breakglass_pages
from glassgate.web.csrf import csrf_protected
from glassgate.web.grants import grant_operations
from glassgate.web.grants_pages import grant_pages
from glassgate.web.guard import RequestGuard
from glassgate.web.idp_signin import idp_sign_in_routes
from glassgate.web.openapi import openapi_document
from glassgate.web.pages import STATIC, Pages
from glassgate.web.security import SecurityHeaders
from glassgate.web.throttle import SignInThrottle
from glassgate.workflows.idp_signin import IdpSignIn

__all__ = ["ConsoleServices", "Health", "create_console_app"]

_ERRORS = {404: "not_found", 405: "method_not_allowed"}


class _NoProxies:
    """No trusted proxies: the TCP peer is the client (``ports.TrustedProxiesView``)."""

    @property
    def trusted_proxies(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class ConsoleServices:
    """What the console's handlers may call; they never reach storage themselves.

    ``csrf_secret`` signs the CSRF cookie (``console.csrf_secret``; None: random
    per app, so tokens do not survive a restart). ``breakglass`` (the serving
    configuration's service) needs ``throttle``: no sign-in goes unthrottled.
    ``scim``: the SCIM 2.0 app (``web.scim``), mounted at ``/scim`` (it serves
    ``/scim/v2``) when ``scim.enabled``, beside the pages' CSRF check and body
    guard rather than behind them: SCIM clients are machines with a bearer
    token, and the SCIM app caps and refuses bodies itself.
    """

    readiness: Readiness
    proxies: TrustedProxiesView = field(default_factory=_NoProxies)
    clock: Clock = now
    csrf_secret: str | None = field(default=None, repr=False)
    breakglass: BreakglassSource | None = None  # the break-glass service of the current config
    scim: ASGIApp | None = None
    throttle: SignInThrottle | None = None
    grants: GrantsSource | None = None  # just-in-time grants (``web.grants``)
    idp_sign_in: IdpSignIn | None = None  # sign-in through the IdP (``web.idp_signin``)

    def __post_init__(self) -> None:
        if self.breakglass is not None and self.throttle is None:
            raise ValueError("the break-glass console needs a sign-in throttle")


class Health(BaseModel):
    """``ok`` once the gateway can verify tokens, ``starting`` before (503)."""

    status: Literal["ok", "starting"]


class OpenApiDocument(BaseModel):
    """This API's OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


def create_console_app(services: ConsoleServices) -> ASGIApp:
    pages = Pages(services.clock)
    published: dict[str, OpenApiDocument] = {}  # the document, built once, after the registry
    operations = _operations(services, published)
    page_routes: list[BaseRoute] = [Route("/", _unconfigured(pages), methods=["GET"])]
    if services.breakglass is not None and services.throttle is not None:
        console = BreakglassConsole(services.breakglass, services.proxies, services.throttle)
        operations += breakglass_operations(console)
        page_routes = list(breakglass_pages(console, pages))
    if services.grants is not None:
        operations += grant_operations(services.grants, services.idp_sign_in)
    document = openapi_document(operations, title="glassgate console", version=__version__)
    published["document"] = OpenApiDocument.model_validate(document)
    if services.idp_sign_in is not None:
        page_routes += idp_sign_in_routes(services.idp_sign_in, pages)
        if services.grants is not None:
            page_routes += grant_pages(services.grants, services.idp_sign_in, pages)
    routes: list[BaseRoute] = [
        *starlette_routes(operations),
        *page_routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return error_answer(pages, request.scope, status, _ERRORS.get(status, "http_error"))

    async def server_error(request: Request, exc: Exception) -> Response:
        """A bug: logged by Starlette's error middleware; the client learns nothing more."""
        return error_answer(pages, request.scope, 500, "internal_error")

    async def csrf_failed(scope: Scope, send: Send) -> None:
        await _send(error_answer(pages, scope, 403, "csrf_failed"), scope, send)

    async def guard_refused(scope: Scope, send: Send, status: int, code: str) -> None:
        await _send(error_answer(pages, scope, status, code), scope, send)

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    secret = services.csrf_secret or secrets.token_urlsafe(32)
    protected = csrf_protected(app, secret, csrf_failed)
    served: ASGIApp = RequestGuard(protected, MAX_BODY_BYTES, guard_refused)
    if services.scim is not None:
        served = Starlette(routes=[Mount("/scim", app=services.scim), Mount("", app=served)])
    return SecurityHeaders(served)


async def _send(response: Response, scope: Scope, send: Send) -> None:
    async def nothing() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)


def _unconfigured(pages: Pages) -> Callable[[Request], Awaitable[Response]]:
    async def home(request: Request) -> Response:
        return pages.render(
            request.scope,
            "message.html",
            heading="Break-glass console",
            detail="Break-glass access is not configured on this gateway (no breakglass section).",
        )

    return home


def _operations(
    services: ConsoleServices, published: dict[str, OpenApiDocument]
) -> list[Operation]:
    """The registry: every operation the console serves, in one explicit list."""

    async def health(request: Request, body: BaseModel | None) -> Reply:
        if services.readiness.ready:
            return Reply(200, Health(status="ok"))
        return Reply(503, Health(status="starting"))

    async def openapi(request: Request, body: BaseModel | None) -> Reply:
        return Reply(200, published["document"])

    return [
        Operation(
            "health",
            "GET",
            "/api/health",
            "Whether the gateway is ready to verify tokens",
            {200: Health, 503: Health},
            health,
        ),
        Operation(
            "openapi",
            "GET",
            "/api/openapi.json",
            "This API's OpenAPI 3.1 document",
            {200: OpenApiDocument},
            openapi,
        ),
    ]
