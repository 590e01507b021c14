"""The console's grant pages: request access, the approver queue, one's own grants (issue 13).

``/grants`` needs the console's IdP session (``web.idp_signin``; without one,
a ``303`` to ``/sign-in/idp``). Forms post back to ``/grants`` and
``/grants/{id}/approve|deny|revoke`` (CSRF-checked like every console form)
and answer ``303`` to ``/grants``; a refusal re-renders the page with the
service's message and status. The pages call the same ``GrantService`` as the
JSON API (``web.grants``), with the same caller (token groups plus merged
directory groups, never grant groups).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from glassgate.errors import AuthenticationFailedError, GlassgateError, WorkflowInputError
from glassgate.ports import GrantsSource
from glassgate.web.api import UNAVAILABLE, refusal_status
from glassgate.web.breakglass.caller import path_id
from glassgate.web.idp_signin import IDP_COOKIE
from glassgate.web.pages import Pages
from glassgate.workflows.grant_service import GrantCaller, GrantService
from glassgate.workflows.idp_signin import IdpSignIn

__all__ = ["grant_pages"]

_VERBS = ("approve", "deny", "revoke")
_MAX_MINUTES = 7 * 24 * 60


def grant_pages(source: GrantsSource, sessions: IdpSignIn, pages: Pages) -> list[BaseRoute]:
    async def caller(request: Request) -> GrantCaller | None:
        raw = request.cookies.get(IDP_COOKIE)
        if not raw:
            return None
        try:
            session = await sessions.session(raw)
        except AuthenticationFailedError:
            return None
        return source.caller_of(session.principal())

    def unconfigured(request: Request) -> Response:
        detail = "Just-in-time grants are not configured on this gateway (no grants.types)."
        return pages.render(request.scope, "message.html", 404, heading="Grants", detail=detail)

    async def render(
        request: Request,
        service: GrantService,
        who: GrantCaller,
        error: str = "",
        status: int = 200,
    ) -> Response:
        now = service.clock()
        mine = [(g, g.state(now).value) for g in reversed(await service.mine(who.requester))]
        groups = who.requester.groups
        types = [t for t in service.policy.types.values() if not groups.isdisjoint(t.requesters)]
        return pages.render(
            request.scope,
            "grants.html",
            status,
            who=who.requester.subject,
            types=types,
            queue=await service.queue(who.approver),
            mine=mine,
            error=error,
        )

    async def admitted(request: Request) -> tuple[GrantService, GrantCaller] | Response:
        """The service and the signed-in caller, or the answer when either is missing."""
        service = source.grant_service()
        if service is None:
            return unconfigured(request)
        who = await caller(request)
        if who is None:
            return RedirectResponse("/sign-in/idp", status_code=303)
        return service, who

    async def page(request: Request) -> Response:
        found = await admitted(request)
        if isinstance(found, Response):
            return found
        return await render(request, *found)

    async def change(request: Request) -> Response:
        found = await admitted(request)
        if isinstance(found, Response):
            return found
        service, who = found
        try:
            await _apply(request, service, who)
        except GlassgateError as exc:
            status = refusal_status(exc)
            if status is None:
                raise
            message = UNAVAILABLE if status == 503 else str(exc)
            return await render(request, service, who, message, status)
        return RedirectResponse("/grants", status_code=303)

    return [
        Route("/grants", page, methods=["GET"]),
        Route("/grants", change, methods=["POST"]),
        Route("/grants/{id}/{verb}", change, methods=["POST"]),
    ]


async def _apply(request: Request, service: GrantService, who: GrantCaller) -> None:
    verb = request.path_params.get("verb")
    if verb is None:
        form = await request.form()
        minutes = str(form.get("minutes", ""))
        if not minutes.isdigit() or not 0 < int(minutes) <= _MAX_MINUTES:
            raise WorkflowInputError("give the duration in whole minutes")
        kind, reason = str(form.get("type", ""))[:64], str(form.get("reason", ""))
        await service.request(kind, who.requester, reason, int(minutes) * 60.0)
    elif verb == "approve":
        await service.approve(path_id(request), who.approver)
    elif verb == "deny":
        await service.deny(path_id(request), who.approver)
    elif verb == "revoke":
        await service.revoke(path_id(request), who.approver)
    else:
        raise WorkflowInputError(f"unknown action; use one of {', '.join(_VERBS)}")
