"""``Observability``: the per-process object that ties metrics and the access log together.

It is the ``DecisionSink`` in ``Runtime.sinks`` (both front doors report every
decision through ``Gate.check``) and it wraps the ASGI app (``wrap``). Metric
families live in one private registry, so nothing else in the process (and no
test) shares or pollutes them.
"""

from __future__ import annotations

import time

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.observability.access_log import CURRENT
from glassgate.adapters.observability.asgi import ObservedApp
from glassgate.adapters.observability.collectors import StateCollector
from glassgate.adapters.observability.metrics import GatewayMetrics
from glassgate.config.schema import ObservabilityConfig
from glassgate.ports import AuditCountersView, HolderView
from glassgate.types import ASGIApp

__all__ = ["Observability"]


class Observability:
    def __init__(self, holder: HolderView, metrics: GatewayMetrics | None = None) -> None:
        self.holder = holder
        self.metrics = metrics if metrics is not None else GatewayMetrics()
        self._collector = StateCollector(holder)
        self.metrics.registry.register(self._collector)

    def record(self, result: GateResult) -> None:
        """``DecisionSink``: count the decision and hand it to the request's access line."""
        self.metrics.count_decision(result)
        exchange = CURRENT.get()
        if exchange is not None:
            exchange.result = result
            self.metrics.observe_decision(time.perf_counter() - exchange.started)

    def watch_audit(self, counters: AuditCountersView) -> None:
        """Export an ``AuditLog``'s ``counters`` (written, lost, refused) at scrape time."""
        self._collector.watch_audit(counters)

    def observability(self) -> ObservabilityConfig:
        return self.holder.state.loaded.config.observability

    def wrap(self, app: ASGIApp) -> ObservedApp:
        return ObservedApp(app, self.metrics, self)
