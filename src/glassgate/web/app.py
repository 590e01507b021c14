"""create_console_app: the console's ASGI app, from the services it needs.

The composition root (``app.compose``) builds ``ConsoleServices`` and calls
this; the app is served on its own listener (``console.listen``), never on the
data-plane port. Today: ``GET /api/health`` and ``GET /api/openapi.json``.
New endpoints are ``Operation``s in ``_operations`` and the services they
call are fields of ``ConsoleServices`` (the admin workflows, the audit
search, break-glass, grants, the directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from glassgate import __version__
from glassgate.ports import BreakglassSource, Readiness
from glassgate.types import ASGIApp
from glassgate.web.api import ErrorBody, Operation, Reply, json_response, starlette_routes
from glassgate.web.openapi import openapi_document
from glassgate.web.security import SecurityHeaders

__all__ = ["ConsoleServices", "Health", "create_console_app"]

_ERRORS = {404: "not_found", 405: "method_not_allowed"}


@dataclass(frozen=True, slots=True)
class ConsoleServices:
    """What the console's handlers may call; they never reach storage themselves.

    ``scim``: the SCIM 2.0 app (``web.scim``), mounted at ``/scim`` (it serves
    ``/scim/v2``) when ``scim.enabled``.
    """

    readiness: Readiness
    breakglass: BreakglassSource | None = None  # the break-glass service of the current config
    scim: ASGIApp | None = None


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
    published: dict[str, OpenApiDocument] = {}  # the document, built once, after the registry
    operations = _operations(services, published)
    document = openapi_document(operations, title="glassgate console", version=__version__)
    published["document"] = OpenApiDocument.model_validate(document)
    routes: list[BaseRoute] = list(starlette_routes(operations))
    if services.scim is not None:
        routes.append(Mount("/scim", app=services.scim))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    return SecurityHeaders(app)


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


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return json_response(status, ErrorBody(error=_ERRORS.get(status, "http_error")))


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug: logged by Starlette's error middleware; the client learns nothing more."""
    return json_response(500, ErrorBody(error="internal_error"))
