"""The plain-integer metrics expose what prometheus_client's Counter and Histogram exposed.

Same names, samples, label sets, order and values; only the ``_created``
timestamps differ between two runs, so they are compared as present, not by value.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from glassgate.adapters.observability.metrics import (
    DECISION_BUCKETS,
    REQUEST_BUCKETS,
    GatewayMetrics,
)
from glassgate.core.decision import Decision, Outcome
from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.core.reasons import Reason
from tests.unit.adapters.observability._fakes import result


def _reference() -> tuple[CollectorRegistry, dict[str, Counter | Histogram]]:
    registry = CollectorRegistry(auto_describe=True)
    families: dict[str, Counter | Histogram] = {
        "decisions": Counter(
            "glassgate_decisions",
            "Gate decisions by outcome, route and deciding reason.",
            ("outcome", "route", "reason"),
            registry=registry,
        ),
        "report_only": Counter(
            "glassgate_decisions_report_only",
            "Requests allowed by a report-only route (or pilot exemption), by what "
            "enforcement would have decided.",
            ("route", "would_be"),
            registry=registry,
        ),
        "token_failures": Counter(
            "glassgate_token_failures",
            "Credentials that failed verification, by failure kind.",
            ("detail",),
            registry=registry,
        ),
        "quota_rejections": Counter(
            "glassgate_quota_rejections",
            "Requests answered 429 because their quota was exhausted, by tier.",
            ("tier",),
            registry=registry,
        ),
        "rejected": Counter(
            "glassgate_requests_rejected",
            "Requests answered before any decision (malformed, smuggling, oversized), by status.",
            ("status",),
            registry=registry,
        ),
        "decision_seconds": Histogram(
            "glassgate_decision_duration_seconds",
            "From request arrival to decision: input checks, credential, policy and quota.",
            buckets=DECISION_BUCKETS,
            registry=registry,
        ),
        "request_seconds": Histogram(
            "glassgate_request_duration_seconds",
            "Whole requests, until the last response byte was handed to the server, by route.",
            ("route",),
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
    }
    return registry, families


def _normalised(text: bytes) -> str:
    return re.sub(r"(_created(\{[^}]*\})?) \S+", r"\1 T", text.decode())


def test_empty_exposition_is_unchanged() -> None:
    registry, _ = _reference()
    assert _normalised(generate_latest(GatewayMetrics().registry)) == _normalised(
        generate_latest(registry)
    )


def test_exposition_after_traffic_is_unchanged() -> None:
    registry, ref = _reference()
    metrics = GatewayMetrics()
    tier = QuotaTier("small", rate=1, per=60, burst=1)
    would_be = Decision(Outcome.DENY, "staff", (Reason.GROUPS_DENIED,))
    results = [
        result(),
        result(),
        result(Outcome.DENY, (Reason.ROUTE_NOT_FOUND,), route=None),
        result(
            Outcome.RATE_LIMITED,
            (Reason.QUOTA_EXCEEDED,),
            quota=(tier, QuotaResult(False, 0, 1, 0, 1)),
        ),
        result(
            Outcome.UNAUTHENTICATED,
            (Reason.TOKEN_INVALID,),
            principal=False,
            detail="token-expired",
        ),
        result(would_be=would_be),
    ]
    for item in results:
        metrics.count_decision(item)
        decision = item.decision
        route = decision.route_id or "none"
        ref["decisions"].labels(decision.outcome.value, route, decision.reason.value).inc()  # type: ignore[union-attr]
        if decision.would_be is not None:
            ref["report_only"].labels(route, decision.would_be.outcome.value).inc()  # type: ignore[union-attr]
        if item.token_detail is not None:
            ref["token_failures"].labels(item.token_detail).inc()  # type: ignore[union-attr]
        if decision.outcome is Outcome.RATE_LIMITED and item.quota is not None:
            ref["quota_rejections"].labels(item.quota[0].name).inc()  # type: ignore[union-attr]
    for seconds in (0.0, 0.0002, 0.0003, 0.001, 0.7, 3.0, 1e-9):
        metrics.observe_decision(seconds)
        ref["decision_seconds"].observe(seconds)  # type: ignore[union-attr]
    requests = [
        ("staff", 200, 0.001, True),
        (None, 400, 0.0005, False),
        ("staff", 502, 12.0, True),
        ("admin", 431, 0.25, False),
        ("admin", 599, 0.01, False),
    ]
    for route, status, seconds, decided in requests:
        metrics.observe_request(route, status, seconds, decided)
        ref["request_seconds"].labels(route or "none").observe(seconds)  # type: ignore[union-attr]
        if not decided:
            label = (
                str(status)
                if status in (400, 404, 405, 408, 413, 414, 431, 500, 501, 502, 503)
                else "other"
            )
            ref["rejected"].labels(label).inc()  # type: ignore[union-attr]
    ours = _normalised(generate_latest(metrics.registry))
    assert ours == _normalised(generate_latest(registry))
    assert "_created" in ours
