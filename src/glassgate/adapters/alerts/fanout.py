"""AlertFanout: the ``Alerts`` service, delivering each alert to every sink at once.

Sinks are tried concurrently, each bounded by ``timeout``, so one dead
receiver costs at most ``timeout`` and never holds back the others. With
``required=True`` the caller learns whether anyone heard: at least one sink
must accept, else ``AlertDeliveryError`` (a break-glass activation is then
refused). Without it, failures are logged and counted, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from glassgate.alerts import Alert
from glassgate.errors import AlertDeliveryError
from glassgate.ports import AlertSink

__all__ = ["AlertCounters", "AlertFanout"]

_log = logging.getLogger("glassgate.alerts")


@dataclass(slots=True)
class AlertCounters:
    """Plain counters for metrics; only ever increased."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    unheard: int = 0  # alerts that no sink accepted


class AlertFanout:
    def __init__(self, sinks: Sequence[AlertSink], *, timeout: float = 5.0) -> None:
        if timeout <= 0:
            raise ValueError("the alert timeout must be positive")
        self._sinks = tuple(sinks)
        self._timeout = timeout
        self.counters = AlertCounters()

    @property
    def sinks(self) -> tuple[AlertSink, ...]:
        return self._sinks

    async def send(self, alert: Alert, *, required: bool = False) -> None:
        self.counters.sent += 1
        results = await asyncio.gather(*(self._deliver(sink, alert) for sink in self._sinks))
        accepted = sum(results)
        if accepted:
            return
        self.counters.unheard += 1
        why = "no alert sink is configured" if not self._sinks else "no alert sink accepted it"
        # the log is then the only trace: the summary and runbook (never secrets) go with it
        _log.error(
            "alert %s was not delivered (%s): %s (runbook: %s)",
            alert.kind,
            why,
            alert.summary,
            alert.runbook or "none",
        )
        if required:
            raise AlertDeliveryError(
                f"the '{alert.kind}' alert could not be delivered ({why}) and alerts.required "
                "is on, so the action was refused; fix the alert sinks and retry"
            )

    async def _deliver(self, sink: AlertSink, alert: Alert) -> bool:
        try:
            await asyncio.wait_for(sink.deliver(alert), self._timeout)
        except TimeoutError:
            why = f"no answer within {self._timeout:g}s"
        except AlertDeliveryError as exc:
            why = str(exc)
        except Exception:  # noqa: BLE001 - a sink's bug must not stop the others
            _log.exception("alert sink %s failed unexpectedly", sink.name)
            why = "unexpected error"
        else:
            self.counters.delivered += 1
            return True
        self.counters.failed += 1
        _log.warning("alert sink %s did not take %s: %s", sink.name, alert.kind, why[:300])
        return False

    async def close(self) -> None:
        """Close the sinks that hold a connection (``close``, when they have one)."""
        for sink in self._sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                await close()
