"""The serving configuration's alerts: what process-wide services (the directory) send through.

``StateHolder.send`` is the ``ports.Alerts`` the gateway hands the directory:
it delivers through the sinks of the configuration serving now, so a reload
that changes ``alerts:`` moves the lockout alerts with it; with no
configuration serving there are no sinks, and a required alert fails.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest

from glassgate.alerts import Alert, Severity
from glassgate.app.runtime import Runtime
from glassgate.app.state import StateHolder
from glassgate.errors import AlertDeliveryError
from tests.support.proxy_harness import fake_authenticator, gateway_config
from tests.support.receivers import WebhookReceiver

ALERT = Alert("directory.lockout.refused", Severity.CRITICAL, "refused", 1000.0)


def _config(hook: str) -> str:
    return gateway_config(
        "http://127.0.0.1:9",
        f"""\
        routes: []
        alerts:
          sinks: [{{type: webhook, url: "{hook}", secret: hook-secret}}]
        """,
    )


def _kinds(receiver: WebhookReceiver) -> list[str]:
    return [json.loads(body)["alert"]["kind"] for _, body in receiver.requests]


def test_alerts_follow_the_serving_configuration() -> None:
    async def body() -> None:
        first, second = WebhookReceiver(), WebhookReceiver()
        first_url, second_url = await first.start(), await second.start()
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "gateway.yaml"
            path.write_text(_config(first_url))
            holder = StateHolder(str(path), Runtime(authenticator=fake_authenticator))
            with pytest.raises(AlertDeliveryError):  # not started: no sinks to hear it
                await holder.send(ALERT, required=True)
            await holder.start()
            try:
                await holder.send(ALERT, required=True)
                assert _kinds(first) == ["directory.lockout.refused"]
                old = holder.state
                path.write_text(_config(second_url))
                assert await holder.reload()
                await old.aclose()  # the holder would close it after in-flight requests
                await holder.send(ALERT)
                assert _kinds(second) == ["directory.lockout.refused"]
                assert len(first.requests) == 1
            finally:
                await holder.aclose()
                await first.stop()
                await second.stop()

    asyncio.run(body())
