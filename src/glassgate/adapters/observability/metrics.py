"""Per-request Prometheus metrics, counted from decisions and finished requests.

Every label value comes from a bounded set: outcomes and reasons are enum
constants, routes and quota tiers are config identifiers (``"none"`` when no
route matched), token failure details are the ``TokenError`` class constants.
A child per label set is looked up once and cached in a plain dict, so the hot
path is one dict lookup and one locked add; no string is formatted per request.
"""

from __future__ import annotations

from typing import TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Histogram

from glassgate.adapters.http.gate import GateResult
from glassgate.core.decision import Outcome

__all__ = ["DECISION_BUCKETS", "REQUEST_BUCKETS", "GatewayMetrics"]

DECISION_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NO_ROUTE = "none"

_Family = TypeVar("_Family", Counter, Histogram)


class GatewayMetrics:
    """The metric families fed per request; scrape-time ones live in ``collectors``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.decisions = Counter(
            "glassgate_decisions",
            "Gate decisions by outcome, route and deciding reason.",
            ("outcome", "route", "reason"),
            registry=r,
        )
        self.report_only = Counter(
            "glassgate_decisions_report_only",
            "Requests allowed by a report-only route (or pilot exemption), by what "
            "enforcement would have decided.",
            ("route", "would_be"),
            registry=r,
        )
        self.token_failures = Counter(
            "glassgate_token_failures",
            "Credentials that failed verification, by failure kind.",
            ("detail",),
            registry=r,
        )
        self.quota_rejections = Counter(
            "glassgate_quota_rejections",
            "Requests answered 429 because their quota was exhausted, by tier.",
            ("tier",),
            registry=r,
        )
        self.rejected = Counter(
            "glassgate_requests_rejected",
            "Requests answered before any decision (malformed, smuggling, oversized), by status.",
            ("status",),
            registry=r,
        )
        self.decision_seconds = Histogram(
            "glassgate_decision_duration_seconds",
            "From request arrival to decision: input checks, credential, policy and quota.",
            buckets=DECISION_BUCKETS,
            registry=r,
        )
        self.request_seconds = Histogram(
            "glassgate_request_duration_seconds",
            "Whole requests, until the last response byte was handed to the server, by route.",
            ("route",),
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._children: dict[tuple[int | str, ...], Counter | Histogram] = {}

    def _child(self, family: _Family, *labels: str) -> _Family:
        key: tuple[int | str, ...] = (id(family), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(*labels)
        return cast("_Family", child)

    def count_decision(self, result: GateResult) -> None:
        decision = result.decision
        route = decision.route_id or NO_ROUTE
        counter = self._child(self.decisions, decision.outcome.value, route, decision.reason.value)
        counter.inc()
        if decision.would_be is not None:
            would_be = decision.would_be.outcome.value
            self._child(self.report_only, route, would_be).inc()
        if result.token_detail is not None:
            self._child(self.token_failures, result.token_detail).inc()
        if decision.outcome is Outcome.RATE_LIMITED and result.quota is not None:
            self._child(self.quota_rejections, result.quota[0].name).inc()

    def observe_decision(self, seconds: float) -> None:
        self.decision_seconds.observe(seconds)

    def observe_request(
        self, route: str | None, status: int, seconds: float, decided: bool
    ) -> None:
        histogram = self._child(self.request_seconds, route or NO_ROUTE)
        histogram.observe(seconds)
        if not decided:
            self._child(self.rejected, _status_label(status)).inc()


_KNOWN_STATUSES = {s: str(s) for s in (400, 404, 405, 408, 413, 414, 431, 500, 501, 502, 503)}


def _status_label(status: int) -> str:
    return _KNOWN_STATUSES.get(status, "other")
