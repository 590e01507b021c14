"""The just-in-time grants API: request, queue, approve, deny, revoke (issue 13).

Every operation needs an IdP access token (``Authorization: Bearer``),
verified exactly as the gate verifies it (``ports.GrantsSource.caller``), or
the console's IdP session cookie (``web.idp_signin``; then unsafe requests
carry the CSRF token like every cookie-authenticated request): a missing or
invalid credential is 401 ``invalid_token``. Refusals carry the workflow's code and
status: 403 self-approval, a second vote by the same person, not an approver;
401 with an RFC 9470 challenge when the approver's sign-in is too weak or too
old; 410 for an expired request; 400 for a duration above the type's maximum.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from glassgate.errors import (
    ActionForbiddenError,
    AuthenticationFailedError,
    NotFoundError,
    TokenError,
    WorkflowError,
)
from glassgate.ports import GrantsSource
from glassgate.web.api import Operation, Reply, operation
from glassgate.web.breakglass.caller import path_id
from glassgate.web.idp_signin import IDP_COOKIE
from glassgate.workflows.grant_service import GrantCaller, GrantService
from glassgate.workflows.grants import Grant, as_document
from glassgate.workflows.idp_signin import IdpSignIn

__all__ = ["GrantBody", "GrantList", "NewGrant", "grant_operations"]

_MAX_TOKEN = 16 * 1024


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class NewGrant(_In):
    """A request for a grant type's group, for ``duration`` seconds, with a one-line reason.

    ``group`` is optional: when given it must be the type's group.
    """

    type: str = Field(min_length=1, max_length=64)
    group: str | None = Field(default=None, min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=500)
    duration: float = Field(gt=0, le=7 * 86_400)


class NoBody(_In):
    """An action that needs nothing but its address (send ``{}``)."""


class GrantBody(BaseModel):
    id: str
    type: str
    group: str
    issuer: str
    subject: str
    reason: str
    duration: float
    state: str
    created_at: float
    expires_at: float
    approvers: list[str]
    ends_at: float | None = None
    revoked_by: str | None = None


class GrantList(BaseModel):
    grants: list[GrantBody]


def grant_body(grant: Grant, now: float) -> GrantBody:
    return GrantBody.model_validate(as_document(grant, now))


class _UnauthenticatedError(WorkflowError):
    code = "invalid_token"
    status = 401
    www_authenticate = 'Bearer error="invalid_token"'


class _Handlers:
    def __init__(self, source: GrantsSource, sessions: IdpSignIn | None) -> None:
        self._source = source
        self._sessions = sessions

    def _service(self) -> GrantService:
        service = self._source.grant_service()
        if service is None:
            raise NotFoundError("just-in-time grants are not configured (no grants.types)")
        return service

    async def _caller(self, request: Request) -> GrantCaller:
        """A bearer IdP access token, else (a browser) the console's IdP session cookie."""
        cookie = request.cookies.get(IDP_COOKIE)
        if "authorization" not in request.headers and cookie and self._sessions is not None:
            try:
                session = await self._sessions.session(cookie)
            except AuthenticationFailedError:
                raise _UnauthenticatedError("sign in again: the session has ended") from None
            return self._source.caller_of(session.principal())
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN:
            raise _UnauthenticatedError("send an IdP access token: Authorization: Bearer <token>")
        try:
            return await self._source.caller(token)
        except TokenError:
            raise _UnauthenticatedError("the access token is not valid; get a new one") from None

    async def _answer(self, service: GrantService, grant: Grant, status: int = 200) -> Reply:
        return Reply(status, grant_body(grant, service.clock()))

    async def file(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        if not isinstance(body, NewGrant):  # the registry validated it against NewGrant
            raise TypeError("requestGrant takes a NewGrant body")
        grant = await service.request(
            body.type, caller.requester, body.reason, body.duration, body.group
        )
        return await self._answer(service, grant, 201)

    async def mine(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        now = service.clock()
        found = await service.mine(caller.requester)
        return Reply(200, GrantList(grants=[grant_body(g, now) for g in found]))

    async def queue(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        now = service.clock()
        found = await service.queue(caller.approver)
        return Reply(200, GrantList(grants=[grant_body(g, now) for g in found]))

    async def show(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        grant = await service.get(path_id(request))
        requester, approver = caller.requester, caller.approver
        visible = grant.requester == requester.id or not approver.groups.isdisjoint(
            grant.approval.rule.groups | service.policy.admins
        )
        if not visible:
            raise ActionForbiddenError("only the requester, its approvers and admins see a grant")
        return await self._answer(service, grant)

    async def approve(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        grant = await service.approve(path_id(request), caller.approver)
        return await self._answer(service, grant)

    async def deny(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        grant = await service.deny(path_id(request), caller.approver)
        return await self._answer(service, grant)

    async def revoke(self, request: Request, body: BaseModel | None) -> Reply:
        service = self._service()
        caller = await self._caller(request)
        grant = await service.revoke(path_id(request), caller.approver)
        return await self._answer(service, grant)


def grant_operations(source: GrantsSource, sessions: IdpSignIn | None = None) -> list[Operation]:
    """The grants API; ``sessions``: the console's IdP sign-in, whose cookie also signs in."""
    h = _Handlers(source, sessions)

    op = operation
    decide = (401, 403, 404, 409, 410, 503)
    return [
        op(
            "requestGrant",
            "POST",
            "/api/grants",
            "Request a just-in-time grant (an IdP access token as bearer); approvers are alerted",
            (201, GrantBody),
            h.file,
            NewGrant,
            (400, 401, 403, 404, 503),
        ),
        op(
            "myGrants",
            "GET",
            "/api/grants",
            "The caller's own grants",
            (200, GrantList),
            h.mine,
            None,
            (401, 404),
        ),
        op(
            "grantQueue",
            "GET",
            "/api/grants/queue",
            "Pending grants the caller may decide",
            (200, GrantList),
            h.queue,
            None,
            (401, 404),
        ),
        op(
            "showGrant",
            "GET",
            "/api/grants/{id}",
            "One grant",
            (200, GrantBody),
            h.show,
            None,
            (401, 403, 404),
        ),
        op(
            "approveGrant",
            "POST",
            "/api/grants/{id}/approve",
            "Approve (never one's own; one person counts once)",
            (200, GrantBody),
            h.approve,
            NoBody,
            decide,
        ),
        op(
            "denyGrant",
            "POST",
            "/api/grants/{id}/deny",
            "Deny a pending grant",
            (200, GrantBody),
            h.deny,
            NoBody,
            decide,
        ),
        op(
            "revokeGrant",
            "POST",
            "/api/grants/{id}/revoke",
            "End a grant now (requester, approver or admin); a pending one is withdrawn",
            (200, GrantBody),
            h.revoke,
            NoBody,
            (401, 403, 404, 409, 503),
        ),
    ]
