"""Per-request Prometheus metrics, counted from decisions and finished requests.

Every label value comes from a bounded set: outcomes and reasons are enum
constants, routes and quota tiers are config identifiers (``"none"`` when no
route matched), token failure details are the ``TokenError`` class constants.

Per request only plain integers change: a counter is one dict entry per label
set, a histogram one list of bucket counts per label set (the bucket found by
``bisect``). No lock and no metric object is touched on the request path;
``collect`` builds the Prometheus families when ``/metrics`` is scraped, with
the names, samples and order the ``prometheus_client`` Counter and Histogram
wrote (``_total``, ``_bucket``/``_count``/``_sum`` and ``_created``), so the
exposition is unchanged. Everything runs on the event loop's thread.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from glassgate.adapters.http.gate import GateResult
from glassgate.core.decision import Outcome

__all__ = ["DECISION_BUCKETS", "REQUEST_BUCKETS", "GatewayMetrics"]

DECISION_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NO_ROUTE = "none"


class _Counter:
    """A counter family: a plain int per label set, and when each set was first seen."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.values: dict[tuple[str, ...], int] = {}
        self.created: dict[tuple[str, ...], float] = {}

    def inc(self, key: tuple[str, ...]) -> None:
        values = self.values
        if key in values:
            values[key] += 1
        else:
            values[key] = 1
            self.created[key] = time.time()

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, value in list(self.values.items()):
            family.add_metric(list(key), value, created=self.created[key])
        return family


class _Histogram:
    """A histogram family: per label set, a count per bucket (not cumulative) and the sum."""

    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.bounds = buckets
        # the "le" text prometheus_client writes
        self.les = [floatToGoString(b) for b in buckets] + ["+Inf"]  # type: ignore[no-untyped-call]
        self.counts: dict[tuple[str, ...], list[int]] = {}
        self.sums: dict[tuple[str, ...], float] = {}
        self.created: dict[tuple[str, ...], float] = {}
        if not labels:  # an unlabelled histogram exists (all zero) from the start
            self._add(())

    def _add(self, key: tuple[str, ...]) -> list[int]:
        counts = self.counts[key] = [0] * (len(self.bounds) + 1)
        self.sums[key] = 0.0
        self.created[key] = time.time()
        return counts

    def observe(self, key: tuple[str, ...], seconds: float) -> None:
        counts = self.counts.get(key)
        if counts is None:
            counts = self._add(key)
        counts[bisect_left(self.bounds, seconds)] += 1  # le: a value on a bound is in it
        self.sums[key] += seconds

    def family(self) -> Metric:
        family = Metric(self.name, self.documentation, "histogram")
        for key, counts in list(self.counts.items()):
            labels = dict(zip(self.labels, key, strict=True))
            total = 0
            for le, count in zip(self.les, counts, strict=True):
                total += count
                family.add_sample(f"{self.name}_bucket", {**labels, "le": le}, float(total))
            family.add_sample(f"{self.name}_count", labels, float(total))
            family.add_sample(f"{self.name}_sum", labels, self.sums[key])
            family.add_sample(f"{self.name}_created", labels, self.created[key])
        return family


class _Families(Collector):
    def __init__(self, families: tuple[_Counter | _Histogram, ...]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.family()


class GatewayMetrics:
    """The metric families fed per request; scrape-time ones live in ``collectors``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.decisions = _Counter(
            "glassgate_decisions",
            "Gate decisions by outcome, route and deciding reason.",
            ("outcome", "route", "reason"),
        )
        self.report_only = _Counter(
            "glassgate_decisions_report_only",
            "Requests allowed by a report-only route (or pilot exemption), by what "
            "enforcement would have decided.",
            ("route", "would_be"),
        )
        self.token_failures = _Counter(
            "glassgate_token_failures",
            "Credentials that failed verification, by failure kind.",
            ("detail",),
        )
        self.quota_rejections = _Counter(
            "glassgate_quota_rejections",
            "Requests answered 429 because their quota was exhausted, by tier.",
            ("tier",),
        )
        self.rejected = _Counter(
            "glassgate_requests_rejected",
            "Requests answered before any decision (malformed, smuggling, oversized), by status.",
            ("status",),
        )
        self.decision_seconds = _Histogram(
            "glassgate_decision_duration_seconds",
            "From request arrival to decision: input checks, credential, policy and quota.",
            (),
            DECISION_BUCKETS,
        )
        self.request_seconds = _Histogram(
            "glassgate_request_duration_seconds",
            "Whole requests, until the last response byte was handed to the server, by route.",
            ("route",),
            REQUEST_BUCKETS,
        )
        self.registry.register(
            _Families(
                (
                    self.decisions,
                    self.report_only,
                    self.token_failures,
                    self.quota_rejections,
                    self.rejected,
                    self.decision_seconds,
                    self.request_seconds,
                )
            )
        )

    def count_decision(self, result: GateResult) -> None:
        decision = result.decision
        route = decision.route_id or NO_ROUTE
        self.decisions.inc((decision.outcome.value, route, decision.reason.value))
        if decision.would_be is not None:
            self.report_only.inc((route, decision.would_be.outcome.value))
        if result.token_detail is not None:
            self.token_failures.inc((result.token_detail,))
        if decision.outcome is Outcome.RATE_LIMITED and result.quota is not None:
            self.quota_rejections.inc((result.quota[0].name,))

    def observe_decision(self, seconds: float) -> None:
        self.decision_seconds.observe((), seconds)

    def observe_request(
        self, route: str | None, status: int, seconds: float, decided: bool
    ) -> None:
        self.request_seconds.observe((route or NO_ROUTE,), seconds)
        if not decided:
            self.rejected.inc((_status_label(status),))


_KNOWN_STATUSES = {s: str(s) for s in (400, 404, 405, 408, 413, 414, 431, 500, 501, 502, 503)}


def _status_label(status: int) -> str:
    return _KNOWN_STATUSES.get(status, "other")
