"""The compiled policy: routes with their criteria, ready for evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from glassgate.core.criteria.base import CompiledCriterion
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


@dataclass(frozen=True, slots=True)
class Policy:
    routes: RouteTable[CompiledRoute]
    by_id: Mapping[str, CompiledRoute] = field(default_factory=dict)

    @classmethod
    def from_targets(cls, targets: Sequence[RouteTarget[CompiledRoute]]) -> Policy:
        return cls(RouteTable(targets), {target.value.id: target.value for target in targets})
