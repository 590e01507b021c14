"""The break-glass policy: locked in the config file, compiled once, never changed by an API.

``BreakglassPolicy`` is what the ``breakglass`` config section compiles to:
the accounts and the networks each may sign in from, the custodians and their
quorum, the routes a session reaches, the drill route, and the clocks
(request expiry, session length and its hard maximum, drill interval).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from types import MappingProxyType

from glassgate.workflows.approvals import ApprovalRule
from glassgate.workflows.drills import DRILL_INTERVAL
from glassgate.workflows.sessions import HARD_MAX_SESSION

__all__ = ["CUSTODIAN_GROUP", "RUNBOOK", "AccountPolicy", "BreakglassPolicy"]

CUSTODIAN_GROUP = "glassgate:custodians"
RUNBOOK = "README.md#break-glass-at-2-am"

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    name: str
    networks: tuple[Network, ...]  # where the account may sign in from; empty: nowhere

    def allows(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class BreakglassPolicy:
    accounts: Mapping[str, AccountPolicy]
    custodians: frozenset[str]
    quorum: int
    recovery_routes: tuple[str, ...]
    drill_route: str | None = None
    session_ttl: float = 1800.0
    max_session: float = HARD_MAX_SESSION
    request_ttl: float = 1800.0
    drill_interval: float = DRILL_INTERVAL
    use_summary_every: float = 300.0
    console_ttl: float = 900.0
    alerts_required: bool = True
    custodian_networks: tuple[Network, ...] = ()  # empty: custodians may sign in from anywhere
    runbook: str = RUNBOOK
    _rule: ApprovalRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.quorum < 1:
            raise ValueError("the custodian quorum is at least 1")
        if not 0 < self.session_ttl <= self.max_session <= HARD_MAX_SESSION:
            raise ValueError("session length must be positive and at most max_session (<= 60m)")
        object.__setattr__(self, "accounts", MappingProxyType(dict(self.accounts)))
        object.__setattr__(self, "_rule", ApprovalRule.quorum(CUSTODIAN_GROUP, self.quorum))

    @property
    def rule(self) -> ApprovalRule:
        """``quorum`` distinct custodians, never the requester."""
        return self._rule

    def custodian_may_sign_in(self, address: Address) -> bool:
        networks = self.custodian_networks
        return not networks or any(address in network for network in networks)
