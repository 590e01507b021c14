"""The compiled policy: routes with their criteria, ready for evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from glassgate.core.criteria.base import CompiledCriterion
from glassgate.core.principal import Principal
from glassgate.core.routes import RouteTable, RouteTarget

__all__ = ["CompiledRoute", "Policy"]


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    """A route after config load: everything per-request evaluation needs, precomputed."""

    id: str
    criteria: tuple[CompiledCriterion, ...]
    upstream: str | None = None
    issuers: frozenset[str] = frozenset()
    anonymous: bool = False
    quota_tier: str | None = None
    report_only: bool = False
    pilot_groups: frozenset[str] = frozenset()
    forward_groups: frozenset[str] = frozenset()

    def accepts_issuer(self, principal: Principal) -> bool:
        """The route names no issuers, or the principal's is one of them."""
        return not self.issuers or principal.issuer in self.issuers

    def in_scope_of(self, principal: Principal) -> bool:
        """The principal has no route scope (an IdP token), or this route is in it (a key)."""
        return principal.route_scope is None or self.id in principal.route_scope

    def admits(self, principal: Principal) -> bool:
        """Whether ``principal``'s reach includes this route: issuer and route scope.

        An anonymous route lets anyone through, but only a principal it admits
        may be asserted to the upstream (identity headers, signed JWT).
        """
        return self.accepts_issuer(principal) and self.in_scope_of(principal)


@dataclass(frozen=True, slots=True)
class Policy:
    routes: RouteTable[CompiledRoute]
    by_id: Mapping[str, CompiledRoute] = field(default_factory=dict)

    @classmethod
    def from_targets(cls, targets: Sequence[RouteTarget[CompiledRoute]]) -> Policy:
        return cls(RouteTable(targets), {target.value.id: target.value for target in targets})
