"""The break-glass JSON API: every console action, as operations in the registry (``web.api``).

The ceremony script (``static/webauthn.js``) is a client of it: sign-in,
enrolment and reset, and each custodian decision are a ``.../begin`` that
returns WebAuthn options and a finish that takes ``credential.toJSON()``.
API tools sign in with ``session: "bearer"`` and send the console token as
``Authorization: Bearer`` (then no CSRF token is needed and no cookie read).

Sign-in and one-time-link steps count against the client address, and a
sign-in finish also against the account when it comes from an address the
account may use (``web.throttle``), before any password is hashed.
"""

from __future__ import annotations

from functools import partial
from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from glassgate.errors import WorkflowInputError
from glassgate.types import Secret
from glassgate.web.api import Operation, Reply, operation
from glassgate.web.breakglass.caller import (
    CONSOLE_COOKIE,
    BreakglassConsole,
    Caller,
    cookie,
    expired_cookie,
    path_id,
    session_cookie,
)
from glassgate.web.breakglass.models import (
    ActorBody,
    Ceremony,
    DecisionBegin,
    DecisionBody,
    DecisionFinish,
    Done,
    EnrolBegin,
    EnrolFinish,
    Enrolled,
    EnrolStart,
    NewRequest,
    NoBody,
    RequestBody,
    RequestList,
    SessionBody,
    SessionList,
    SessionStarted,
    ShownOnce,
    SignedInBody,
    SignInBegin,
    SignInFinish,
)
from glassgate.workflows.links import link_url
from glassgate.workflows.requests import Decision
from glassgate.workflows.signin import normal_name

__all__ = ["breakglass_operations"]

M = TypeVar("M", bound=BaseModel)


def _as(body: BaseModel | None, model: type[M]) -> M:
    if not isinstance(body, model):
        raise TypeError(f"expected a {model.__name__} body")  # a registry bug: 500
    return body


def _check_passwords_match(password: Secret, again: Secret | None) -> None:
    """The page asks twice; a mismatch is the person's typo, said before anything happens."""
    if again is not None and again.reveal() != password.reveal():
        raise WorkflowInputError("the two passwords differ: type the same new password twice")


class _Handlers:
    """One method per operation; each calls the service and maps its view to a body."""

    def __init__(self, console: BreakglassConsole) -> None:
        self._console = console

    def _caller(self, request: Request) -> Caller:
        return self._console.caller(request)

    # --- sign-in ----------------------------------------------------------------------

    async def sign_in_begin(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, SignInBegin), self._caller(request)
        await self._console.throttle.address(caller.client)
        options = await caller.service.sign_in.begin(fields.name, caller.client)
        return Reply(200, Ceremony(challenge_id=options.challenge_id, options=options.public_key))

    async def sign_in_finish(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, SignInFinish), self._caller(request)
        await self._console.throttle.address(caller.client)
        if caller.service.sign_in.may_sign_in_from(fields.name, caller.client):
            await self._console.throttle.account(normal_name(fields.name))
        signed = await caller.service.sign_in.finish(
            fields.name,
            Secret(fields.password.get_secret_value()),
            fields.challenge_id,
            fields.credential,
            caller.client,
        )
        actor = ActorBody.model_validate(signed.actor)
        token = signed.token.reveal()
        if fields.session == "bearer":
            return Reply(200, SignedInBody(actor=actor, expires_at=signed.expires_at, token=token))
        max_age = signed.expires_at - signed.actor.signed_in_at
        body_out = SignedInBody(actor=actor, expires_at=signed.expires_at)
        return Reply(200, body_out, (cookie(CONSOLE_COOKIE, token, max_age),))

    async def sign_out(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        if caller.session_token:
            await caller.service.sign_in.sign_out(caller.session_token, caller.client)
        return Reply(200, Done(next="/sign-in"), (expired_cookie(CONSOLE_COOKIE),))

    async def me(self, request: Request, body: BaseModel | None) -> Reply:
        actor = await self._caller(request).actor()
        return Reply(200, ActorBody.model_validate(actor))

    # --- one-time links ---------------------------------------------------------------

    async def enrol_begin(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, EnrolBegin), self._caller(request)
        await self._console.throttle.address(caller.client)
        start = await caller.service.enrolment.begin(fields.token.get_secret_value())
        ceremony = start.ceremony
        return Reply(
            200,
            EnrolStart(
                challenge_id=ceremony.challenge_id,
                options=ceremony.public_key,
                identity=start.identity,
                purpose="reset" if start.purpose == "reset" else "enrol",
                link_expires_at=start.link_expires_at,
            ),
        )

    async def enrol_finish(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, EnrolFinish), self._caller(request)
        await self._console.throttle.address(caller.client)
        password = Secret(fields.password.get_secret_value())
        again = fields.password_again
        _check_passwords_match(
            password, None if again is None else Secret(again.get_secret_value())
        )
        identity = await caller.service.enrolment.finish(
            fields.token.get_secret_value(), fields.challenge_id, password, fields.credential
        )
        return Reply(200, Enrolled(identity=identity, next="/sign-in?enrolled=1"))

    # --- requests and decisions -------------------------------------------------------

    async def my_requests(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        views = await caller.service.activations.mine(await caller.actor())
        return Reply(200, RequestList(requests=[RequestBody.model_validate(v) for v in views]))

    async def approvals(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        views = await caller.service.activations.queue(await caller.actor())
        return Reply(200, RequestList(requests=[RequestBody.model_validate(v) for v in views]))

    async def file_request(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, NewRequest), self._caller(request)
        view = await caller.service.activations.request(
            await caller.actor(), fields.reason, fields.incident_ref or None, drill=fields.drill
        )
        return Reply(201, RequestBody.model_validate(view))

    async def show_request(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        view = await caller.service.activations.show(await caller.actor(), path_id(request))
        return Reply(200, RequestBody.model_validate(view))

    async def withdraw(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        view = await caller.service.activations.cancel(await caller.actor(), path_id(request))
        return Reply(200, RequestBody.model_validate(view))

    async def decision_begin(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, DecisionBegin), self._caller(request)
        options = await caller.service.activations.begin_decision(
            await caller.actor(), path_id(request), Decision(fields.decision)
        )
        return Reply(200, Ceremony(challenge_id=options.challenge_id, options=options.public_key))

    async def decide(self, request: Request, body: BaseModel | None) -> Reply:
        fields, caller = _as(body, DecisionFinish), self._caller(request)
        result = await caller.service.activations.decide(
            await caller.actor(),
            path_id(request),
            Decision(fields.decision),
            fields.challenge_id,
            fields.credential,
        )
        shown = None
        if result.reset_link is not None:
            link = result.reset_link
            url = link_url(str(request.base_url), link.purpose, link.token.reveal())
            label = f"Reset link for {link.identity}: give it to the account holder (once):"
            shown = ShownOnce(label=label, value=url)
        view = RequestBody.model_validate(result.request)
        return Reply(200, DecisionBody(request=view, shown_once=shown))

    # --- sessions ---------------------------------------------------------------------

    async def start_session(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        started = await caller.service.sessions.activate(
            await caller.actor(), path_id(request), caller.client
        )
        session = SessionBody.model_validate(started.session)
        body_out = SessionStarted(
            session=session, token=started.token.reveal(), next=f"/sessions/{session.id}"
        )
        return Reply(201, body_out, (session_cookie(started.cookie),))

    async def sessions(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        views = await caller.service.sessions.active(await caller.actor())
        return Reply(200, SessionList(sessions=[SessionBody.model_validate(v) for v in views]))

    async def show_session(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        view = await caller.service.sessions.show(await caller.actor(), path_id(request))
        return Reply(200, SessionBody.model_validate(view))

    async def end_session(self, request: Request, body: BaseModel | None) -> Reply:
        caller = self._caller(request)
        view = await caller.service.sessions.end(await caller.actor(), path_id(request))
        return Reply(200, SessionBody.model_validate(view))


def breakglass_operations(console: BreakglassConsole) -> list[Operation]:
    h = _Handlers(console)
    auth = (401, 404)  # no console session; break-glass not configured

    op = partial(operation, errors=auth)

    return [
        op(
            "signInBegin",
            "POST",
            "/api/sign-in/begin",
            "Start a sign-in: WebAuthn options for a name",
            (200, Ceremony),
            h.sign_in_begin,
            SignInBegin,
            errors=(404, 429, 503),
        ),
        op(
            "signInFinish",
            "POST",
            "/api/sign-in/finish",
            "Sign in with password and key together; a console session (cookie or bearer)",
            (200, SignedInBody),
            h.sign_in_finish,
            SignInFinish,
            errors=(401, 404, 423, 429, 503),
        ),
        op(
            "signOut",
            "POST",
            "/api/sign-out",
            "End this console session",
            (200, Done),
            h.sign_out,
            NoBody,
            errors=(401, 404),
        ),
        op("me", "GET", "/api/me", "Who this console session is", (200, ActorBody), h.me),
        op(
            "enrolmentBegin",
            "POST",
            "/api/enrolment/begin",
            "Start an enrolment or reset from a one-time link: WebAuthn options",
            (200, EnrolStart),
            h.enrol_begin,
            EnrolBegin,
            errors=(404, 410, 429, 503),
        ),
        op(
            "enrolmentFinish",
            "POST",
            "/api/enrolment/finish",
            "Set the password and register the key; the link is then used up",
            (200, Enrolled),
            h.enrol_finish,
            EnrolFinish,
            errors=(400, 401, 404, 410, 429, 503),
        ),
        op(
            "myRequests",
            "GET",
            "/api/requests",
            "An account's own requests",
            (200, RequestList),
            h.my_requests,
        ),
        op(
            "fileRequest",
            "POST",
            "/api/requests",
            "Request break-glass access (or a drill): custodians are alerted",
            (201, RequestBody),
            h.file_request,
            NewRequest,
            errors=(400, 401, 403, 404, 409, 503),
        ),
        op(
            "showRequest",
            "GET",
            "/api/requests/{id}",
            "One request",
            (200, RequestBody),
            h.show_request,
            errors=(401, 403, 404),
        ),
        op(
            "withdrawRequest",
            "POST",
            "/api/requests/{id}/withdraw",
            "Withdraw a request",
            (200, RequestBody),
            h.withdraw,
            NoBody,
            errors=(401, 403, 404, 409, 503),
        ),
        op(
            "approvals",
            "GET",
            "/api/approvals",
            "Requests waiting for custodians",
            (200, RequestList),
            h.approvals,
            errors=(401, 403, 404),
        ),
        op(
            "decisionBegin",
            "POST",
            "/api/requests/{id}/decisions/begin",
            "WebAuthn options bound to this request and this decision",
            (200, Ceremony),
            h.decision_begin,
            DecisionBegin,
            errors=(401, 403, 404, 409, 410),
        ),
        op(
            "decide",
            "POST",
            "/api/requests/{id}/decisions",
            "Approve or deny with a custodian's key (the assertion over the bound challenge)",
            (200, DecisionBody),
            h.decide,
            DecisionFinish,
            errors=(401, 403, 404, 409, 410, 503),
        ),
        op(
            "startSession",
            "POST",
            "/api/requests/{id}/start",
            "Start the session of an approved request: a cookie and a bearer token (once)",
            (201, SessionStarted),
            h.start_session,
            NoBody,
            errors=(401, 403, 404, 409, 410, 423, 503),
        ),
        op(
            "sessions",
            "GET",
            "/api/sessions",
            "Active break-glass sessions one may see",
            (200, SessionList),
            h.sessions,
        ),
        op(
            "showSession",
            "GET",
            "/api/sessions/{id}",
            "One break-glass session",
            (200, SessionBody),
            h.show_session,
        ),
        op(
            "endSession",
            "POST",
            "/api/sessions/{id}/end",
            "End a session now",
            (200, SessionBody),
            h.end_session,
            NoBody,
            errors=(401, 403, 404, 409, 503),
        ),
    ]
