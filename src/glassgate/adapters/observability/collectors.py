"""Metrics read at scrape time from the live gateway state, never counted per request.

The JWKS key source, the upstream targets, the reload counters and the audit
log already keep plain counters and flags; this collector turns them into
Prometheus families when ``/metrics`` is scraped. A reload builds a new key
source whose counters start at zero, so the collector carries the old source's
last-seen totals forward and the exported counters never go backwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from glassgate.adapters.http.upstreams import Upstream
from glassgate.ports import AuditCountersView, HolderView, KeySourceView

__all__ = ["StateCollector"]


class _Carried:
    """Totals per issuer that survive the key source being replaced by a reload."""

    def __init__(self) -> None:
        self.source: object | None = None
        self.base: Counter[str] = Counter()
        self.seen: dict[str, int] = {}

    def totals(self, source: object, current: Mapping[str, int]) -> Counter[str]:
        if source is not self.source:
            self.base.update(self.seen)
            self.source = source
        self.seen = dict(current)
        return self.base + Counter(self.seen)


class StateCollector(Collector):
    def __init__(self, holder: HolderView) -> None:
        self._holder = holder
        self._fetches = _Carried()
        self._failures = _Carried()
        self._audit: AuditCountersView | None = None

    def watch_audit(self, counters: AuditCountersView) -> None:
        self._audit = counters

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration; the state may not exist yet

    def collect(self) -> Iterator[Metric]:
        holder = self._holder
        reloads = CounterMetricFamily(
            "glassgate_config_reloads", "Configuration reloads by result.", labels=["result"]
        )
        reloads.add_metric(["ok"], holder.reloads_ok)
        reloads.add_metric(["failed"], holder.reloads_failed)
        yield reloads
        try:
            state = holder.state
        except RuntimeError:  # not started yet
            return
        yield GaugeMetricFamily(
            "glassgate_ready", "1 once every issuer's keys are loaded.", value=int(state.ready)
        )
        yield from self._jwks(state.authenticator.keys)
        yield from _upstreams(state.upstreams)
        if self._audit is not None:
            yield from _audit(self._audit)

    def _jwks(self, keys: KeySourceView) -> Iterator[Metric]:
        fetches = self._fetches.totals(keys, keys.fetches_by_issuer)
        failures = self._failures.totals(keys, keys.failures_by_issuer)
        refreshes = CounterMetricFamily(
            "glassgate_jwks_refreshes", "JWKS fetches per issuer.", labels=["issuer"]
        )
        failed = CounterMetricFamily(
            "glassgate_jwks_refresh_failures", "Failed JWKS fetches per issuer.", labels=["issuer"]
        )
        last = GaugeMetricFamily(
            "glassgate_jwks_last_success_timestamp_seconds",
            "When each issuer's keys were last fetched successfully (Unix time).",
            labels=["issuer"],
        )
        count = GaugeMetricFamily(
            "glassgate_jwks_keys", "Usable signing keys per issuer.", labels=["issuer"]
        )
        for issuer, ring in sorted(keys.keyrings.items()):
            refreshes.add_metric([issuer], fetches[issuer])
            failed.add_metric([issuer], failures[issuer])
            count.add_metric([issuer], len(ring.keys))
            if ring.last_success is not None:
                last.add_metric([issuer], ring.last_success)
        yield from (refreshes, failed, last, count)


def _upstreams(upstreams: Mapping[str, Upstream]) -> Iterator[Metric]:
    healthy = GaugeMetricFamily(
        "glassgate_upstream_target_healthy",
        "1 while the target passes its health checks (or has none).",
        labels=["upstream", "target"],
    )
    in_flight = GaugeMetricFamily(
        "glassgate_upstream_target_in_flight",
        "Requests currently being forwarded to the target.",
        labels=["upstream", "target"],
    )
    for name, upstream in sorted(upstreams.items()):
        for target in upstream.targets:
            labels = [name, f"{target.host}:{target.port}"]
            healthy.add_metric(labels, int(target.healthy))
            in_flight.add_metric(labels, target.in_flight)
    yield from (healthy, in_flight)


def _audit(counters: AuditCountersView) -> Iterator[Metric]:
    records = CounterMetricFamily(
        "glassgate_audit_records",
        "Audit records by fate: written, lost (not recorded while serving), refused, "
        "minimal (written with typed fields only: the full event could not be built).",
        labels=["fate"],
    )
    records.add_metric(["written"], counters.written)
    records.add_metric(["lost"], counters.lost)
    records.add_metric(["refused"], counters.refused)
    records.add_metric(["minimal"], counters.minimal)
    yield records
