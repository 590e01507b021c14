"""The compiled policy: routes with their criteria, ready for evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.criteria.base import CompiledCriterion
from glassgate.core.routes import RouteTable

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
