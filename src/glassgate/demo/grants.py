"""The demo's just-in-time grant: erin (Staff) asks for Analysts, carol and dave approve.

Filed and approved through the same ``GrantService`` the API and the CLI use
(audited, alerted: the demo's alert receiver prints both alerts), once the
gateway is ready; erin's printed token then reaches ``/api/reports/*``, which
it could not before. ``glassgate grants list --config ...`` shows the grant.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.app.state import StateHolder
from glassgate.demo.issuer import DevIssuer
from glassgate.demo.samples import Sample
from glassgate.workflows.approvals import Approver
from glassgate.workflows.grant_service import Requester
from glassgate.workflows.grants import person_id

__all__ = ["DemoGrant", "file_demo_grant"]

GRANT_TYPE = "reports-jit"
REQUESTER, APPROVERS = "erin", ("carol", "dave")
DURATION = 900.0


@dataclass(frozen=True, slots=True)
class DemoGrant:
    grant_id: str
    sample: Sample  # erin's call that the grant opens


async def file_demo_grant(holder: StateHolder, issuer: DevIssuer) -> DemoGrant | None:
    """Request and approve the demo grant; None when grants are off in the config."""
    grants = holder.runtime.grants
    if grants is None:
        return None
    service = grants.service_for(holder.state.loaded.config)
    erin = Requester(issuer.issuer, REQUESTER, frozenset({"Staff"}))
    grant = await service.request(GRANT_TYPE, erin, "demo: a look at the Q3 report", DURATION)
    for name in APPROVERS:
        admin = Approver(person_id(issuer.issuer, name), frozenset({"Admins"}))
        grant = await service.approve(grant.id, admin)
    sample = Sample(
        "grant",
        f"erin (Staff) holds Analysts for 15 min through grant {grant.id}, requested and "
        "approved by carol and dave at start (see the [alert] lines)",
        "/api/reports/q3",
        issuer.mint(REQUESTER, groups=["Staff"]),
        (200,),
    )
    return DemoGrant(grant.id, sample)
