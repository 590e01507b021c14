"""Live audit sinks: syslog (RFC 5424 over TCP/UDP) and signed webhooks.

Each sink owns a bounded queue and one delivery task; ``offer`` never blocks
the request path. ``build_sinks`` turns the ``audit.sinks`` config into sinks.
"""

from __future__ import annotations

from collections.abc import Sequence

from glassgate.adapters.audit_sinks.syslog import SyslogAuditSink
from glassgate.adapters.audit_sinks.webhook import WebhookAuditSink
from glassgate.config.audit import SinkConfig, SyslogSinkConfig
from glassgate.ports import AuditSink
from glassgate.types import Clock, Secret

__all__ = ["SyslogAuditSink", "WebhookAuditSink", "build_sinks"]


def build_sinks(configs: Sequence[SinkConfig], *, clock: Clock) -> list[AuditSink]:
    sinks: list[AuditSink] = []
    for config in configs:
        if isinstance(config, SyslogSinkConfig):
            sinks.append(
                SyslogAuditSink(
                    config.host,
                    config.port,
                    transport=config.transport,
                    facility=config.facility,
                    event_types=config.event_types,
                    queue_size=config.queue_size,
                )
            )
        else:
            sinks.append(
                WebhookAuditSink(
                    config.url,
                    Secret(config.secret.get_secret_value()),
                    clock=clock,
                    timeout=config.timeout,
                    event_types=config.event_types,
                    queue_size=config.queue_size,
                )
            )
    return sinks
