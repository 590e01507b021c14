"""SCIM 2.0 at ``/scim/v2`` (RFC 7644): scim2-server's storage over glassgate's directory.

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
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scim2_models import (
    ConflictException,
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.service import ScimService
from scim2_server.storage import AsyncScimStorage, SearchPage

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
from glassgate.workflows.directory import DirectoryService, Source

__all__ = ["SCIM_ACTOR", "DirectoryScimStorage", "ServiceUnavailableException"]

# Who the request authenticated as, for audit records: set by ``scim_app.ScimApp``.
SCIM_ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("scim_actor", default="scim")
_INDEXED = frozenset({"username", "externalid", "id", "displayname"})


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
            await self._directory.change(plan, actor=SCIM_ACTOR.get(), source=Source.SCIM)

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
            outcome = await self._directory.change(plan, actor=SCIM_ACTOR.get(), source=Source.SCIM)
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
