"""After use: incidents to close with notes, and drill status and history (SPEC C7).

Operators act here through the CLI (``breakglass incidents``,
``close-incident``, ``status``, ``drill status``, ``drill history``); every
change is audited before it is saved, like every other workflow step.
"""

from __future__ import annotations

from glassgate.errors import NotFoundError
from glassgate.workflows import incidents
from glassgate.workflows.drills import Drill, Overdue, overdue
from glassgate.workflows.identities import IdentityKind, IdentityState, LocalIdentity
from glassgate.workflows.incidents import Incident, IncidentState
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Change
from glassgate.workflows.requests import BreakglassRequest
from glassgate.workflows.sessions import Session
from glassgate.workflows.views import DrillView, IncidentView

__all__ = ["Aftercare"]


class Aftercare:
    def __init__(self, recorder: Recorder, policy: BreakglassPolicy) -> None:
        self._recorder = recorder
        self._policy = policy

    async def incidents(self, *, open_only: bool = False) -> list[IncidentView]:
        state = IncidentState.OPEN.value if open_only else None
        found = await self._recorder.records.find(Incident, b=state)
        return [IncidentView.of(item.value) for item in found]

    async def incident(self, incident_id: str) -> IncidentView:
        found = await self._recorder.records.get(Incident, incident_id)
        if found is None:
            raise NotFoundError(f"no incident {incident_id[:40]!r}")
        return IncidentView.of(found.value)

    async def close_incident(self, incident_id: str, operator: str, notes: str) -> IncidentView:
        found = await self._recorder.records.get(Incident, incident_id)
        if found is None:
            raise NotFoundError(f"no incident {incident_id[:40]!r}")
        now = self._recorder.clock()
        closed, events = incidents.close_incident(found.value, operator, notes, now)
        await self._recorder.apply(events, [Change(closed, found.version)])
        return IncidentView.of(closed)

    async def drills(self) -> list[DrillView]:
        return [DrillView.of(item.value) for item in await self._recorder.records.find(Drill)]

    async def overdue(self) -> list[Overdue]:
        """Configured, enrolled accounts without a passed drill within the drill interval."""
        accounts = await self._recorder.records.find(LocalIdentity, a=IdentityKind.ACCOUNT.value)
        enrolled = [
            a.value.name
            for a in accounts
            if a.value.state is not IdentityState.PENDING and a.value.name in self._policy.accounts
        ]
        missing = [name for name in self._policy.accounts if name not in enrolled]
        drills = [item.value for item in await self._recorder.records.find(Drill)]
        now = self._recorder.clock()
        return overdue([*enrolled, *missing], drills, now, self._policy.drill_interval)

    async def facts(
        self, request_id: str
    ) -> tuple[BreakglassRequest, Session | None, Incident | None]:
        """What the post-use report of ``request_id`` is built from (``workflows.report``)."""
        found = await self._recorder.records.get(BreakglassRequest, request_id)
        if found is None:
            raise NotFoundError(f"no break-glass request {request_id[:40]!r}")
        request = found.value
        sessions = await self._recorder.records.find(Session, a=request.account)
        session = next((s.value for s in sessions if s.value.request_id == request.id), None)
        incidents = await self._recorder.records.find(Incident, a=request.account)
        incident = next((i.value for i in incidents if i.value.request_id == request.id), None)
        return request, session, incident
