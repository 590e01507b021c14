"""Break-glass sessions from start to end: activate, use, end, expire (SPEC C7).

``activate`` turns an approved request into a session, in one audited unit:
the request is fulfilled, the session starts (bound to the client address),
and for a real activation the account is locked and an incident opened; for a
drill, a drill record starts instead. The activation alert must be accepted
by a sink when ``alerts.required`` (else nothing happens). The session token
is in the result only, as a bearer token and as a cookie.

``end`` (any custodian, or the requester) and ``sweep`` (expiry) close it;
a drill is then finished with its audit record range. ``check`` and
``note_use`` are what the gate calls for each request made with a session.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace

from glassgate.audit.records import AuditRecord
from glassgate.core.request import IPAddress
from glassgate.errors import (
    ActionForbiddenError,
    ConcurrentChangeError,
    NotFoundError,
    SessionEndedError,
    WorkflowError,
)
from glassgate.workflows import drills, incidents, requests, sessions
from glassgate.workflows.activation import check_custodian
from glassgate.workflows.challenges import Challenge
from glassgate.workflows.consoles import ConsoleSession
from glassgate.workflows.drills import Drill, DrillResult
from glassgate.workflows.events import Event
from glassgate.workflows.identities import IdentityKind, LocalIdentity, check_can_sign_in, lock
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Change, Versioned
from glassgate.workflows.requests import BreakglassRequest, RequestKind, RequestState
from glassgate.workflows.sessions import Session, SessionState, parse_session_token
from glassgate.workflows.views import (
    SESSION_COOKIE,
    ActivatedSession,
    Actor,
    CookieSpec,
    SessionView,
)

__all__ = ["SessionControl"]

_USE_ATTEMPTS = 3


class SessionControl:
    def __init__(self, recorder: Recorder, policy: BreakglassPolicy) -> None:
        self._recorder = recorder
        self._policy = policy

    # --- start --------------------------------------------------------------------------

    async def activate(self, actor: Actor, request_id: str, client: IPAddress) -> ActivatedSession:
        """Start the session of an approved request, from the requester's own address."""
        try:
            return await self._activate(actor, request_id, client)
        except WorkflowError as exc:
            facts = {"request_id": request_id[:64], "client_ip": str(client)}
            await self._recorder.refused("activation.start", actor.ref, actor.name, exc, facts)
            raise

    async def _activate(self, actor: Actor, request_id: str, client: IPAddress) -> ActivatedSession:
        found = await self._recorder.records.get(BreakglassRequest, request_id)
        if found is None or found.value.requester != actor.ref:
            raise NotFoundError(f"no break-glass request {request_id[:40]!r} of yours")
        request = found.value
        if request.kind is RequestKind.RESET:
            raise ActionForbiddenError("a reset request does not start a session")
        account = self._policy.accounts.get(request.account)
        if account is None or not account.allows(client):
            raise ActionForbiddenError(
                "this address is not in the account's allowed networks (breakglass.accounts)"
            )
        identity = await self._recorder.records.get(LocalIdentity, actor.ref)
        if identity is None:
            raise NotFoundError(f"no identity {actor.ref}")
        check_can_sign_in(identity.value)  # activate while locked: AccountLockedError
        now = self._recorder.clock()
        fulfilled, events = requests.fulfil(request, now)
        issued, started = sessions.start_session(
            request.id,
            request.account,
            drill=request.kind is RequestKind.DRILL,
            scope=request.scope,
            client_ip=str(client),
            ttl=min(request.session_ttl, self._policy.max_session),
            now=now,
        )
        session = issued.session
        changes = [Change(fulfilled, found.version)]
        all_events = [*events, *started]
        if request.kind is RequestKind.ACTIVATION:
            locked = lock(identity.value, request.id, now)
            incident, opened = incidents.open_incident(
                f"I-{secrets.token_hex(6)}",
                request.account,
                request.id,
                session.id,
                request.incident_ref,
                now,
            )
            changes += [Change(locked, identity.version), Change(incident)]
            all_events += opened

        def with_range(written: list[AuditRecord]) -> list[Change]:
            first_seq = written[0].seq
            batch = [*changes, Change(replace(session, first_seq=first_seq))]
            if request.kind is not RequestKind.DRILL:
                return batch
            drill = drills.start_drill(
                request.id,
                request.account,
                session.id,
                signed_in_at=actor.signed_in_at,
                approvers=[(a.approver, a.key_id) for a in request.approval.approvals],
                first_seq=first_seq,
                now=now,
            )
            return [*batch, Change(drill)]

        await self._recorder.apply(all_events, with_range)
        cookie = CookieSpec(
            SESSION_COOKIE,
            issued.token,
            f"Path=/; Max-Age={int(session.expires_at - now)}; Secure; HttpOnly; SameSite=Strict",
        )
        return ActivatedSession(issued.token, cookie, SessionView.of(session, now))

    # --- read ---------------------------------------------------------------------------

    async def _load(self, session_id: str) -> Versioned[Session]:
        found = await self._recorder.records.get(Session, session_id)
        if found is None:
            raise NotFoundError(f"no break-glass session {session_id[:40]!r}")
        return found

    def _may_see(self, actor: Actor, session: Session) -> bool:
        own = actor.kind == IdentityKind.ACCOUNT.value and actor.name == session.account
        custodian = actor.kind == IdentityKind.CUSTODIAN.value
        return own or (custodian and actor.name in self._policy.custodians)

    async def show(self, actor: Actor, session_id: str) -> SessionView:
        found = await self._load(session_id)
        if not self._may_see(actor, found.value):
            raise NotFoundError(f"no break-glass session {session_id[:40]!r}")
        return SessionView.of(found.value, self._recorder.clock())

    async def active(self, actor: Actor) -> list[SessionView]:
        """Live sessions the actor may see (custodians: all; an account: its own)."""
        now = self._recorder.clock()
        found = await self._recorder.records.find(Session, b=SessionState.ACTIVE.value)
        return [
            SessionView.of(s.value, now)
            for s in found
            if s.value.live(now) and self._may_see(actor, s.value)
        ]

    # --- end ----------------------------------------------------------------------------

    async def end(self, actor: Actor, session_id: str) -> SessionView:
        """End early: any custodian named in the policy, or the requester."""
        found = await self._load(session_id)
        session = found.value
        own = actor.ref == f"{IdentityKind.ACCOUNT.value}:{session.account}"
        custodian = actor.kind == IdentityKind.CUSTODIAN.value
        if custodian and not own:
            check_custodian(actor, self._policy)
        now = self._recorder.clock()
        ended, events = sessions.end(session, actor.ref, now, may_end=own or custodian)
        await self._close(found, ended, events)
        return SessionView.of(ended, now)

    async def sweep(self) -> int:
        """Record the expiry of sessions and requests whose time ran out; returns how many.

        Expired challenges and console sign-ins are dropped too. The gateway runs
        this periodically; readers see expiry at once anyway (``state(now)``).
        """
        now = self._recorder.clock()
        count = 0
        for found in await self._recorder.records.find(Session, b=SessionState.ACTIVE.value):
            if now >= found.value.expires_at:
                expired, events = sessions.expire(found.value, now)
                await self._close(found, expired, events)
                count += 1
        for state in (RequestState.PENDING, RequestState.APPROVED):
            for req in await self._recorder.records.find(BreakglassRequest, b=state.value):
                if req.value.state(now) is RequestState.EXPIRED:
                    updated, events = requests.expire(req.value, now)
                    await self._recorder.apply(events, [Change(updated, req.version)])
                    count += 1
        await self._recorder.records.purge(Challenge, now)
        await self._recorder.records.purge(ConsoleSession, now)
        return count

    async def _close(
        self, found: Versioned[Session], closed: Session, events: Sequence[Event]
    ) -> None:
        drill = None
        if closed.drill:
            drill = await self._recorder.records.get(Drill, closed.request_id)

        def changes(written: list[AuditRecord]) -> list[Change]:
            batch = [Change(replace(closed, last_seq=written[-1].seq), found.version)]
            if drill is not None and drill.value.result is DrillResult.RUNNING:
                finished, _ = drills.finish_drill(
                    drill.value, written[-1].seq, closed.ended_at or 0
                )
                batch.append(Change(finished, drill.version))
            return batch

        await self._recorder.apply(events, changes)

    # --- the gate's side ----------------------------------------------------------------

    async def check(self, token: str, client: IPAddress) -> Session:
        """The live session a request presents, from its own address; else a typed refusal."""
        parsed = parse_session_token(token)
        if parsed is None:
            raise SessionEndedError("this is not a break-glass session token")
        found = await self._recorder.records.get(Session, parsed[0])
        if found is None:
            raise SessionEndedError("this break-glass session token is not valid")
        sessions.check_use(found.value, parsed[1], str(client), self._recorder.clock())
        if found.value.account not in self._policy.accounts:  # removed from the locked policy
            raise SessionEndedError("this break-glass account is no longer configured")
        return found.value

    async def note_use(self, session_id: str, *, succeeded: bool, drill_route: bool) -> None:
        """Count a request made with the session: first-use and summary alerts, drill evidence.

        Requests of one session may finish together: a lost race is re-read and
        counted again (a few times at most).
        """
        for _ in range(_USE_ATTEMPTS - 1):
            try:
                await self._note_use(session_id, succeeded=succeeded, drill_route=drill_route)
            except ConcurrentChangeError:
                continue
            return
        await self._note_use(session_id, succeeded=succeeded, drill_route=drill_route)

    async def _note_use(self, session_id: str, *, succeeded: bool, drill_route: bool) -> None:
        now = self._recorder.clock()
        found = await self._load(session_id)
        updated, events = sessions.note_use(found.value, now, self._policy.use_summary_every)
        changes = [Change(updated, found.version)]
        if found.value.drill and succeeded and drill_route:
            drill = await self._recorder.records.get(Drill, found.value.request_id)
            if drill is not None:
                noted, more = drills.note_success(drill.value, now)
                if more:
                    changes.append(Change(noted, drill.version))
                    events = (*events, *more)
        await self._recorder.apply(events, changes)
