"""The SCIM 2.0 app (RFC 7644) on the console: what /scim/v2 declares and who may call it.

``scim_provider`` declares the service (RFC 7643's User with the enterprise
extension and Group; PATCH, filters, sorting, ETags; no bulk, no password
changes). ``GlassgateScimService`` reads Entra ID's PATCH forms and answers
PATCH with the resource. ``ScimApp`` lets nothing but discovery through
without a glassgate SCIM token; the storage is ``web.scim``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, cast

from scim2_models import (
    AuthenticationScheme,
    Context,
    External,
    PatchOp,
    Reference,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimProvider,
    UnauthorizedException,
)
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.conditions import Conditions
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

from glassgate.types import Receive, Scope, Send
from glassgate.web.scim import SCIM_ACTOR, DirectoryScimStorage
from glassgate.web.scim_patch import add_missing_typed_values, normalise_patch
from glassgate.workflows.directory import DirectoryService
from glassgate.workflows.scim_tokens import ScimTokens

__all__ = ["GlassgateScimService", "ScimApp", "build_scim_app", "scim_provider"]

Authenticate = Callable[[str], Awaitable[str | None]]

MAX_RESULTS = 200
MAX_BODY = 4 * 1024 * 1024  # a group PUT with tens of thousands of members fits
BEARER = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="glassgate SCIM token",
    description="A bearer token from `glassgate scim token issue`, stored hashed",
    spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
    primary=True,
)


def scim_provider() -> ScimProvider:
    """What /scim/v2 serves: RFC 7643's User (with the enterprise extension) and Group.

    Declared: PATCH, filters (at most ``MAX_RESULTS`` a page), sorting, ETags,
    index pagination. Not offered: bulk (each operation must pass the lockout
    guard on its own) and password changes (glassgate keeps no passwords).
    """
    config = load_default_service_provider_config()
    config.bulk.supported = False  # type: ignore[union-attr]
    config.bulk.max_operations = 0  # type: ignore[union-attr]
    config.bulk.max_payload_size = 0  # type: ignore[union-attr]
    config.change_password.supported = False  # type: ignore[union-attr]
    config.filter.max_results = MAX_RESULTS  # type: ignore[union-attr]
    config.authentication_schemes = [BEARER]
    return ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )


class GlassgateScimService(ScimService):
    """scim2-server's service, reading Entra ID's PATCH forms and answering PATCH with 200.

    RFC 7644 §3.5.2 allows 204 for a PATCH; Okta's provisioning expects the
    updated resource, so glassgate always returns it. Bodies are capped at
    ``MAX_BODY`` (scim2-server leaves non-bulk bodies unbounded): a larger one
    is answered 413 before it is parsed, and at most one byte more is read.
    """

    def max_body_size(self, request: ScimRequest) -> int | None:
        limit = super().max_body_size(request)
        return MAX_BODY if limit is None else min(limit, MAX_BODY)

    def read_body(
        self, model: Any, body: bytes, content_type: str | None, scim_ctx: Context
    ) -> Any:
        if len(body) > MAX_BODY:
            raise self.payload_too_large(MAX_BODY)
        return super().read_body(model, body, content_type, scim_ctx)

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> PatchOp[Any]:
        return super().read_patch(resource_type, normalise_patch(body), content_type)

    def apply_patch(
        self, current: Resource[Any], patch_op: PatchOp[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        document = patch_op.model_dump()
        operations = add_missing_typed_values(document["Operations"], current.model_dump())
        if operations != document["Operations"]:
            patch_op = type(patch_op).model_validate({**document, "Operations": operations})
        return super().apply_patch(current, patch_op, conditions)

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        published = self.publish(base_url, resource)
        return self.resource_response(
            published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
        )


class ScimApp(ASGIApplication):
    """The SCIM ASGI app: every request but discovery needs a glassgate SCIM bearer token."""

    def __init__(
        self,
        storage: DirectoryScimStorage,
        provider: ScimProvider,
        service: ScimService,
        authenticate: Authenticate,
    ) -> None:
        super().__init__(storage, provider, service)
        self._authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        """The ASGI entry, typed as glassgate's apps are (scim2-server types it with dicts)."""
        await super().__call__(dict(scope), cast(Any, receive), cast(Any, send))

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        actor = "scim"
        if self.needs_auth(request):
            scheme, _, token = (request.header("Authorization") or "").partition(" ")
            found = await self._authenticate(token.strip()) if scheme.lower() == "bearer" else None
            if found is None:
                raise UnauthorizedException
            actor = found
        reset = SCIM_ACTOR.set(actor)
        try:
            return await self.handler.handle(request)
        finally:
            SCIM_ACTOR.reset(reset)


def build_scim_app(
    directory: DirectoryService, tokens: ScimTokens, clock: Callable[[], float]
) -> ScimApp:
    """The SCIM app over ``directory``, authenticated by ``tokens`` (mounted at /scim).

    The cursor secret is drawn per process: glassgate offers index pagination
    only, so no cursor ever outlives the process that issued it.
    """
    provider = scim_provider()
    protocol = GlassgateScimService(provider, secret=secrets.token_urlsafe(32))
    storage = DirectoryScimStorage(directory, protocol, clock)
    return ScimApp(storage, provider, protocol, tokens.authenticate)
