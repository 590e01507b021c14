"""SCIM 2.0 at ``/scim/v2`` (RFC 7644): scim2-server's protocol over glassgate's directory.

scim2-server does the protocol (discovery, filters, PATCH with its Okta and
Entra ID variants, ETags and ``If-Match``, pagination, error bodies);
``DirectoryScimStorage`` is its storage, and every write goes through
``DirectoryService.change``: the lockout guard, the audit record first, the
alert on a refusal. Nothing here writes the directory any other way.

Refusals and failures become SCIM errors, never a 500: a lockout is ``409``
with the guard's message (group, minimum, who would remain), a taken
userName ``409 uniqueness``, a bad value ``400 invalidValue``, a stale ETag
``412``, an audit log or store that cannot be written ``503``.

Searches narrow ``userName``/``externalId``/``id``/``displayName eq`` filters
through the directory's indexes before scim2-models evaluates the filter, and
page plain listings before building any SCIM resource.
"""

from __future__ import annotations

import contextlib
import contextvars
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, cast

from scim2_models import (
    AuthenticationScheme,
    ConflictException,
    Context,
    External,
    InvalidValueException,
    NotFoundException,
    PatchOp,
    PreconditionFailedException,
    Reference,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimFilter,
    ScimProvider,
    SearchRequest,
    UnauthorizedException,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.conditions import Conditions
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import AsyncScimStorage, SearchPage
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

from glassgate.directory.changes import Change, DeleteGroup, DeleteUser, PutGroup, PutUser
from glassgate.directory.models import Group, User, stamp
from glassgate.directory.scim import (
    group_document,
    group_from_document,
    user_document,
    user_from_document,
    version_tag,
)
from glassgate.directory.state import Directory
from glassgate.errors import (
    AuditUnavailableError,
    BackendError,
    DirectoryConflictError,
    DirectoryNotFoundError,
    LockoutRefusedError,
)
from glassgate.types import Receive, Scope, Send
from glassgate.web.scim_patch import add_missing_typed_values, normalise_patch
from glassgate.workflows.directory import DirectoryService, Source
from glassgate.workflows.scim_tokens import ScimTokens

__all__ = [
    "DirectoryScimStorage",
    "GlassgateScimService",
    "ScimApp",
    "ServiceUnavailableException",
    "build_scim_app",
    "scim_provider",
]

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("scim_actor", default="scim")
_INDEXED = frozenset({"username", "externalid", "id", "displayname"})
Authenticate = Callable[[str], Awaitable[str | None]]


MAX_RESULTS = 200
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
    updated resource, so glassgate always returns it.
    """

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


class ServiceUnavailableException(SCIMException):
    """503: the audit log or the store cannot be written now; retry later."""

    status = 503
    _default_detail = "The directory cannot be changed now; retry later"


@contextlib.contextmanager
def _scim_errors() -> Iterator[None]:
    """glassgate's errors -> SCIM errors (RFC 7644 §3.12), never a 500."""
    try:
        yield
    except LockoutRefusedError as exc:
        raise ConflictException(detail=str(exc)) from exc
    except DirectoryConflictError as exc:
        raise UniquenessException(detail=str(exc)) from exc
    except DirectoryNotFoundError as exc:
        raise InvalidValueException(detail=str(exc)) from exc
    except ValueError as exc:
        raise InvalidValueException(detail=str(exc)) from exc
    except (AuditUnavailableError, BackendError) as exc:
        raise ServiceUnavailableException(detail=str(exc)) from exc


class DirectoryScimStorage(AsyncScimStorage):
    """scim2-server's storage, backed by the directory service."""

    def __init__(
        self,
        directory: DirectoryService,
        service: ScimService,
        clock: Callable[[], float],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._directory = directory
        self._service = service
        self._clock = clock
        self._new_id = new_id

    # --- resources <-> directory ---------------------------------------------------

    def _resource(self, resource_type: ResourceType, document: dict[str, Any]) -> Resource[Any]:
        return self._service.get_model(resource_type).model_validate(document)

    def _user(self, d: Directory, user: User, resource_type: ResourceType) -> Resource[Any]:
        direct = d.direct_groups(user.id)
        groups = [
            (group.id, name, name in direct)
            for name in d.effective_groups(user.id)
            if (group := d.group_named(name)) is not None
        ]
        return self._resource(resource_type, user_document(user, groups))

    def _group(self, d: Directory, group: Group, resource_type: ResourceType) -> Resource[Any]:
        names = {uid: d.users[uid].user_name for uid in group.members if uid in d.users}
        return self._resource(resource_type, group_document(group, names))

    def _render(self, d: Directory, item: User | Group, rt: ResourceType) -> Resource[Any]:
        return self._user(d, item, rt) if isinstance(item, User) else self._group(d, item, rt)

    @staticmethod
    def _is_user(resource_type: ResourceType) -> bool:
        return resource_type.name == "User"

    def _find(self, d: Directory, resource_type: ResourceType, rid: str) -> User | Group:
        found = d.user(rid) if self._is_user(resource_type) else d.group(rid)
        if found is None:
            raise NotFoundException(detail=f"no {resource_type.name} with id {rid}")
        return found

    # --- AsyncScimStorage -----------------------------------------------------------

    async def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        d = self._directory.current
        return self._render(d, self._find(d, resource_type, resource_id), resource_type)

    async def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        d = self._directory.current
        scim_filter = search_request.filter
        pairs = [(rt, item) for rt in resource_types for item in _candidates(d, rt, scim_filter)]
        if scim_filter is None and search_request.sort_by is None:
            pairs.sort(key=lambda pair: (pair[0].name, pair[1].id))
            start = search_request.start_index_0 or 0
            stop = None if search_request.count is None else start + search_request.count
            page = [self._render(d, item, rt) for rt, item in pairs[start:stop]]
            return SearchPage(len(pairs), page)
        found = [self._render(d, item, rt) for rt, item in pairs]
        if scim_filter is not None:
            found = [resource for resource in found if scim_filter.match(resource)]
        found.sort(key=lambda r: _sort_key(search_request, r))
        if search_request.sort_order == SearchRequest.SortOrder.descending:
            found.reverse()
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    async def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        document = resource.model_dump()
        new_id = self._new_id()

        def plan(d: Directory) -> list[Change]:
            if self._is_user(resource_type):
                return [
                    PutUser(stamp(user_from_document(document, new_id, None), None, self._clock()))
                ]
            return [PutGroup(stamp(group_from_document(document, new_id), None, self._clock()))]

        return await self._write(plan, resource_type, new_id)

    async def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        document = resource.model_dump()
        rid = str(resource.id)

        def plan(d: Directory) -> list[Change]:
            current = self._current(d, resource_type, rid, expected_version)
            now = self._clock()
            if isinstance(current, User):
                return [PutUser(stamp(user_from_document(document, rid, current), current, now))]
            return [PutGroup(stamp(group_from_document(document, rid), current, now))]

        return await self._write(plan, resource_type, rid)

    async def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        def plan(d: Directory) -> list[Change]:
            current = self._current(d, resource_type, resource_id, expected_version)
            return [
                DeleteUser(current.id) if isinstance(current, User) else DeleteGroup(current.id)
            ]

        with _scim_errors():
            await self._directory.change(plan, actor=_actor.get(), source=Source.SCIM)

    def _current(
        self, d: Directory, resource_type: ResourceType, rid: str, expected_version: str | None
    ) -> User | Group:
        current = self._find(d, resource_type, rid)
        if expected_version is not None and expected_version != version_tag(current.version):
            raise PreconditionFailedException(detail=f"{resource_type.name} {rid} has changed")
        return current

    async def _write(
        self, plan: Callable[[Directory], list[Change]], resource_type: ResourceType, rid: str
    ) -> Resource[Any]:
        with _scim_errors():
            outcome = await self._directory.change(plan, actor=_actor.get(), source=Source.SCIM)
        d = outcome.directory
        return self._render(d, self._find(d, resource_type, rid), resource_type)


def _candidates(
    d: Directory, rt: ResourceType, scim_filter: ScimFilter[Any] | None
) -> Sequence[User | Group]:
    """The users or groups a search must look at: fewer for an indexed ``eq`` filter."""
    users = rt.name == "User"
    node = None if scim_filter is None else scim_filter.ast
    if (
        isinstance(node, Comparison)
        and node.op == CompareOperator.eq
        and isinstance(node.value, str)
        and node.attr_path.uri is None
        and node.attr_path.sub_attr is None
        and node.attr_path.attr.lower() in _INDEXED
    ):
        return _lookup(d, users, node.attr_path.attr.lower(), node.value)
    return list(d.users.values() if users else d.groups.values())


def _lookup(d: Directory, users: bool, attribute: str, value: str) -> list[User | Group]:
    if attribute == "id":
        found = d.user(value) if users else d.group(value)
        return [found] if found is not None else []
    if attribute == "username" and users:
        user = d.user_named(value)
        return [user] if user is not None else []
    if attribute == "displayname" and not users:
        group = d.group_named(value)  # exact; scim2-models matches case the same way
        return [group] if group is not None else list(d.groups.values())
    if attribute == "externalid":
        items = d.users.values() if users else d.groups.values()
        return [item for item in items if item.external_id == value]
    return list(d.users.values() if users else d.groups.values())


def _sort_key(search_request: SearchRequest[Any], resource: Resource[Any]) -> tuple[bool, Any, str]:
    value = search_request.sort_value(resource)
    return value is None, value if value is not None else "", str(resource.id)


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
        reset = _actor.set(actor)
        try:
            return await self.handler.handle(request)
        finally:
            _actor.reset(reset)


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
