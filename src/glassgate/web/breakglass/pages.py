"""The break-glass console's pages: server-rendered, one form per action, script for keys only.

Pages read through the same services as the API (``api``). The three
actions that need a key (sign in, enrol or reset, approve or deny) are
ceremony forms: the script calls the API and then follows its ``next``.
Everything else is a plain HTML form posted here (CSRF token in the form),
answered with a redirect (303) or, when the service refuses, a page that
says why with the service's own status. A page that needs a signed-in person
sends anyone else to ``/sign-in``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from glassgate.errors import AuthenticationFailedError, GlassgateError, RequestRejectedError
from glassgate.web.answers import exception_answer
from glassgate.web.breakglass.caller import (
    CONSOLE_COOKIE,
    BreakglassConsole,
    Caller,
    expired_cookie,
    path_id,
    session_cookie,
)
from glassgate.web.breakglass.models import NewRequest
from glassgate.web.csrf import CSRF_FIELD
from glassgate.web.pages import Pages
from glassgate.workflows.views import Actor

__all__ = ["breakglass_pages"]

Endpoint = Callable[[Request], Awaitable[Response]]
_MAX_FIELDS = 16
SESSION_REFRESH = 15  # seconds: an active session's page refreshes its time left
WAITING_REFRESH = 20  # seconds: the overview refreshes while a request waits for custodians


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields (the request guard already capped it), without the CSRF token."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        raise RequestRejectedError(f"a console form has at most {_MAX_FIELDS} fields") from None
    return {name: value for name, value in pairs if name != CSRF_FIELD}


class _Pages:
    def __init__(self, console: BreakglassConsole, pages: Pages) -> None:
        self._console = console
        self._pages = pages

    def guarded(self, handler: Callable[[Request, Caller], Awaitable[Response]]) -> Endpoint:
        """Refusals become pages with their status; no console session goes to sign in."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, self._console.caller(request))
            except AuthenticationFailedError:
                response = _see("/sign-in")
                response.headers.append("set-cookie", expired_cookie(CONSOLE_COOKIE))
                return response
            except GlassgateError as exc:
                answer = exception_answer(self._pages, request.scope, exc)
                if answer is None:
                    raise
                return answer

        return endpoint

    def render(self, request: Request, name: str, actor: Actor | None, **values: Any) -> Response:
        return self._pages.render(request.scope, name, actor=actor, **values)

    # --- open to anyone ---------------------------------------------------------------

    async def sign_in(self, request: Request, caller: Caller) -> Response:
        notice = None
        if request.query_params.get("enrolled"):
            notice = "Your password and key are set. Sign in with both."
        return self.render(request, "sign_in.html", None, notice=notice)

    async def link(self, request: Request, caller: Caller) -> Response:
        purpose = "reset" if request.url.path.startswith("/reset/") else "enrol"
        token = str(request.path_params["token"])[:256]
        return self.render(request, "enrol.html", None, purpose=purpose, token=token)

    # --- signed in ---------------------------------------------------------------------

    async def home(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        service = caller.service
        custodian = actor.kind == "custodian"
        mine = [] if custodian else await service.activations.mine(actor)
        waiting = any(r.state == "pending" for r in mine)
        return self.render(
            request,
            "home.html",
            actor,
            console_expires_at=actor.signed_in_at + service.policy.console_ttl,
            requests=mine,
            queue=await service.activations.queue(actor) if custodian else [],
            sessions=await service.sessions.active(actor),
            refresh=WAITING_REFRESH if waiting else None,  # approvals show up by themselves
        )

    def _request_form(self, caller: Caller, drill: bool) -> dict[str, Any]:
        policy = caller.service.policy
        return {
            "drill": drill,
            "quorum": policy.quorum,
            "session_minutes": int(policy.session_ttl // 60),
        }

    async def new_request(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        drill = request.url.path == "/drill"
        return self.render(request, "request_new.html", actor, **self._request_form(caller, drill))

    async def file_request(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        drill = request.url.path == "/drill"
        try:
            fields = NewRequest.model_validate({**await _form(request), "drill": drill})
        except ValidationError:
            return self._pages.render(
                request.scope,
                "request_new.html",
                400,
                actor=actor,
                error="Give a reason (at most 500 characters) and, for a real request, "
                "an incident reference (at most 100).",
                **self._request_form(caller, drill),
            )
        await caller.service.activations.request(
            actor, fields.reason, fields.incident_ref or None, drill=fields.drill
        )
        return _see("/")

    async def approvals(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        queue = await caller.service.activations.queue(actor)
        return self.render(request, "approvals.html", actor, queue=queue, refresh=30)

    async def withdraw(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        await caller.service.activations.cancel(actor, path_id(request))
        return _see("/")

    async def start(self, request: Request, caller: Caller) -> Response:
        """Start the session; its page shows the bearer token this once (no redirect)."""
        actor = await caller.actor()
        started = await caller.service.sessions.activate(actor, path_id(request), caller.client)
        response = self.render(
            request, "session.html", actor, session=started.session, token=started.token.reveal()
        )
        response.headers.append("set-cookie", session_cookie(started.cookie))
        return response

    async def session(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        view = await caller.service.sessions.show(actor, path_id(request))
        refresh = SESSION_REFRESH if view.state == "active" else None
        return self.render(
            request, "session.html", actor, session=view, token=None, refresh=refresh
        )

    async def end(self, request: Request, caller: Caller) -> Response:
        actor = await caller.actor()
        view = await caller.service.sessions.end(actor, path_id(request))
        return _see(f"/sessions/{view.id}")

    async def sign_out(self, request: Request, caller: Caller) -> Response:
        if caller.session_token:
            with contextlib.suppress(AuthenticationFailedError):  # already over: no error
                await caller.service.sign_in.sign_out(caller.session_token, caller.client)
        response = _see("/sign-in")
        response.headers.append("set-cookie", expired_cookie(CONSOLE_COOKIE))
        return response


def breakglass_pages(console: BreakglassConsole, pages: Pages) -> list[Route]:
    p = _Pages(console, pages)
    get, post = ["GET"], ["POST"]
    return [
        Route("/sign-in", p.guarded(p.sign_in), methods=get),
        Route("/enrol/{token}", p.guarded(p.link), methods=get),
        Route("/reset/{token}", p.guarded(p.link), methods=get),
        Route("/", p.guarded(p.home), methods=get),
        Route("/requests/new", p.guarded(p.new_request), methods=get),
        Route("/requests/new", p.guarded(p.file_request), methods=post),
        Route("/drill", p.guarded(p.new_request), methods=get),
        Route("/drill", p.guarded(p.file_request), methods=post),
        Route("/approvals", p.guarded(p.approvals), methods=get),
        Route("/requests/{id}/withdraw", p.guarded(p.withdraw), methods=post),
        Route("/requests/{id}/start", p.guarded(p.start), methods=post),
        Route("/sessions/{id}", p.guarded(p.session), methods=get),
        Route("/sessions/{id}/end", p.guarded(p.end), methods=post),
        Route("/sign-out", p.guarded(p.sign_out), methods=post),
    ]
