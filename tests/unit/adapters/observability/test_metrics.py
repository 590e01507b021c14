"""adapters.observability.metrics and collectors: bounded labels, scrape-time state."""

from __future__ import annotations

from collections import Counter

from prometheus_client import generate_latest

from glassgate.adapters.observability import Observability
from glassgate.adapters.observability.metrics import GatewayMetrics
from glassgate.core.decision import Decision, Outcome
from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.core.reasons import Reason
from tests.unit.adapters.observability._fakes import FakeHolder, FakeKeys, result


def _value(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_decisions_by_outcome_route_and_reason() -> None:
    metrics = GatewayMetrics()
    metrics.count_decision(result())
    metrics.count_decision(result())
    metrics.count_decision(result(Outcome.DENY, (Reason.ROUTE_NOT_FOUND,), route=None))
    name = "glassgate_decisions_total"
    assert _value(metrics, name, outcome="allow", route="staff", reason="groups-ok") == 2
    assert _value(metrics, name, outcome="deny", route="none", reason="route-not-found") == 1


def test_no_subject_path_or_token_becomes_a_label() -> None:
    metrics = GatewayMetrics()
    metrics.count_decision(result(detail="token-expired"))
    text = generate_latest(metrics.registry)
    assert b"alice" not in text
    assert b"/staff/x" not in text
    assert b"192.0.2.7" not in text


def test_token_failures_quota_and_report_only() -> None:
    metrics = GatewayMetrics()
    tier = QuotaTier("small", rate=1, per=60, burst=1)
    refused = QuotaResult(False, 0.0, 60.0, 0, 60.0)
    metrics.count_decision(
        result(Outcome.RATE_LIMITED, (Reason.QUOTA_EXCEEDED,), quota=(tier, refused))
    )
    metrics.count_decision(
        result(
            Outcome.UNAUTHENTICATED,
            (Reason.TOKEN_INVALID,),
            principal=False,
            detail="token-expired",
        )
    )
    would_be = Decision(Outcome.DENY, "staff", (Reason.GROUPS_DENIED,))
    metrics.count_decision(result(would_be=would_be))
    assert _value(metrics, "glassgate_quota_rejections_total", tier="small") == 1
    assert _value(metrics, "glassgate_token_failures_total", detail="token-expired") == 1
    assert (
        _value(metrics, "glassgate_decisions_report_only_total", route="staff", would_be="deny")
        == 1
    )


def test_one_plain_entry_per_label_set() -> None:
    metrics = GatewayMetrics()
    metrics.count_decision(result())
    created = dict(metrics.decisions.created)
    metrics.count_decision(result())
    assert metrics.decisions.values == {("allow", "staff", "groups-ok"): 2}
    assert metrics.decisions.created == created  # first seen once, as a child was made once


def test_scrape_time_state_and_counters_that_survive_a_reload() -> None:
    holder = FakeHolder()
    holder.keys.fetches_by_issuer["idp"] = 3
    holder.keys.failures_by_issuer["idp"] = 1
    holder.reloads_ok, holder.reloads_failed = 2, 1
    observability = Observability(holder)
    metrics = observability.metrics
    assert _value(metrics, "glassgate_jwks_refreshes_total", issuer="idp") == 3
    assert _value(metrics, "glassgate_jwks_refresh_failures_total", issuer="idp") == 1
    assert _value(metrics, "glassgate_config_reloads_total", result="ok") == 2
    assert _value(metrics, "glassgate_config_reloads_total", result="failed") == 1
    assert _value(metrics, "glassgate_jwks_keys", issuer="idp") == 0
    holder.keys = FakeKeys(fetches_by_issuer=Counter({"idp": 1}))  # a reload: a new key source
    assert _value(metrics, "glassgate_jwks_refreshes_total", issuer="idp") == 4
    assert _value(metrics, "glassgate_jwks_refresh_failures_total", issuer="idp") == 1


def test_upstream_targets_and_audit_counters() -> None:
    from types import SimpleNamespace

    target = SimpleNamespace(host="10.0.0.5", port=8080, healthy=False, in_flight=2)
    holder = FakeHolder(upstreams={"app": SimpleNamespace(targets=[target])})
    observability = Observability(holder)
    observability.watch_audit(SimpleNamespace(written=10, lost=2, refused=0, minimal=3))
    metrics = observability.metrics
    labels = {"upstream": "app", "target": "10.0.0.5:8080"}
    assert _value(metrics, "glassgate_upstream_target_healthy", **labels) == 0
    assert _value(metrics, "glassgate_upstream_target_in_flight", **labels) == 2
    assert _value(metrics, "glassgate_audit_records_total", fate="lost") == 2
    assert _value(metrics, "glassgate_audit_records_total", fate="minimal") == 3


def test_before_start_only_reload_counters_are_exported() -> None:
    metrics = Observability(FakeHolder(started=False)).metrics
    assert _value(metrics, "glassgate_config_reloads_total", result="ok") == 0
    assert _value(metrics, "glassgate_ready") is None
