"""core.policy: the compiled policy and its route index."""

from __future__ import annotations

from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.routes import Match, PathPattern, RouteTarget


def _target(pattern: str, route_id: str) -> RouteTarget[CompiledRoute]:
    return RouteTarget(PathPattern.parse(pattern), frozenset(), (), CompiledRoute(route_id, ()))


def test_from_targets_keeps_order_and_indexes_by_id() -> None:
    policy = Policy.from_targets([_target("/a/*", "a"), _target("/*", "rest")])
    assert len(policy.routes) == 2
    assert set(policy.by_id) == {"a", "rest"}
    assert policy.by_id["a"].id == "a"
    match, route = policy.routes.lookup("GET", "", "/a/x")
    assert match is Match.FULL
    assert route is policy.by_id["a"]
    assert policy.routes.lookup("GET", "", "/b")[1] is policy.by_id["rest"]


def test_compiled_route_defaults_are_closed() -> None:
    route = CompiledRoute("r", ())
    assert not route.anonymous
    assert not route.report_only
    assert route.pilot_groups == frozenset()
    assert route.issuers == frozenset()
