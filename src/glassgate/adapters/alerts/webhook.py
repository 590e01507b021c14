"""WebhookAlertSink: one signed HTTP POST per alert, through the audit webhook's poster.

Body: ``{"alert": {...}}`` (``alerts.alert_json``); the same signature headers
as the audit webhook (``X-Glassgate-Timestamp``, ``X-Glassgate-Signature``:
HMAC-SHA256 over ``timestamp + "." + body``), so one receiver verifies both.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from glassgate.adapters.audit_sinks.webhook import SignedPoster
from glassgate.alerts import Alert, alert_json
from glassgate.types import Secret

__all__ = ["WebhookAlertSink"]


class WebhookAlertSink:
    def __init__(
        self,
        url: str,
        secret: Secret,
        *,
        clock: Callable[[], float],
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._poster = SignedPoster(url, secret, clock=clock, timeout=timeout, transport=transport)

    @property
    def name(self) -> str:
        return self._poster.name

    async def deliver(self, alert: Alert) -> None:
        self._poster.open()
        body = json.dumps({"alert": alert_json(alert)}, sort_keys=True, separators=(",", ":"))
        await self._poster.post(body.encode("utf-8"))

    async def close(self) -> None:
        await self._poster.close()
