"""Ports of the break-glass work that are not yet in ``glassgate.ports``.

Kept apart only while ``ports.py`` is being restructured (issue 8); they move
there unchanged. The alert ports are the shared contract
(``ALERTS-CONTRACT``): ``AlertSink`` is one delivery channel, ``Alerts`` the
fan-out the workflows, the directory's lockout guard and grants call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from glassgate.alerts import Alert

__all__ = ["AlertSink", "Alerts"]


@runtime_checkable
class AlertSink(Protocol):
    """One alert channel (``adapters/alerts``: webhook, syslog, email)."""

    @property
    def name(self) -> str: ...

    async def deliver(self, alert: Alert) -> None:
        """Deliver ``alert`` once, now; ``AlertDeliveryError`` if it was not accepted."""
        ...


class Alerts(Protocol):
    """The fan-out service: every configured sink, concurrently, with a bounded timeout.

    ``required=True`` raises ``AlertDeliveryError`` (``alert_delivery_failed``)
    unless at least one sink accepted the alert; ``required=False`` never
    raises (failures are logged and counted).
    """

    async def send(self, alert: Alert, *, required: bool = False) -> None: ...
