"""Alert sinks (webhook, syslog, email) and the fan-out that sends to all of them.

``build_alerts`` turns the ``alerts`` config section into an ``AlertFanout``.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.adapters.alerts.email import EmailAlertSink
from glassgate.adapters.alerts.fanout import AlertFanout
from glassgate.adapters.alerts.syslog import SyslogAlertSink
from glassgate.adapters.alerts.webhook import WebhookAlertSink
from glassgate.config.alerts import (
    AlertsConfig,
    EmailAlertSinkConfig,
    SyslogAlertSinkConfig,
    WebhookAlertSinkConfig,
)
from glassgate.ports import AlertSink
from glassgate.types import Secret

__all__ = [
    "AlertFanout",
    "EmailAlertSink",
    "SyslogAlertSink",
    "WebhookAlertSink",
    "build_alerts",
]


def _sink(
    config: WebhookAlertSinkConfig | SyslogAlertSinkConfig | EmailAlertSinkConfig,
    timeout: float,
    clock: Callable[[], float],
) -> AlertSink:
    if isinstance(config, WebhookAlertSinkConfig):
        secret = Secret(config.secret.get_secret_value())
        return WebhookAlertSink(config.url, secret, clock=clock, timeout=timeout)
    if isinstance(config, SyslogAlertSinkConfig):
        return SyslogAlertSink(
            config.host,
            config.port,
            transport=config.transport,
            facility=config.facility,
            timeout=timeout,
        )
    password = None if config.password is None else Secret(config.password.get_secret_value())
    return EmailAlertSink(
        config.host,
        config.port,
        sender=config.sender,
        recipients=config.to,
        starttls=config.starttls,
        username=config.username,
        password=password,
        ca_file=config.ca_file,
        timeout=timeout,
    )


def build_alerts(config: AlertsConfig, *, clock: Callable[[], float]) -> AlertFanout:
    sinks = [_sink(sink, config.timeout, clock) for sink in config.sinks]
    return AlertFanout(sinks, timeout=config.timeout)
