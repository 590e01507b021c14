"""SyslogAlertSink: one RFC 5424 message per alert, through the audit syslog transport.

MSGID is the alert kind; the severity follows the alert's (critical is
syslog ``alert``, warning ``warning``, info ``info``); MSG is the alert as JSON.
"""

from __future__ import annotations

import json
import socket
from typing import Literal

from glassgate.adapters.audit_sinks.syslog import SyslogTransport
from glassgate.alerts import Alert, Severity, alert_json
from glassgate.audit.export import ALERT, FACILITY_AUTHPRIV, INFO, WARNING, rfc5424_message
from glassgate.audit.records import format_ts

__all__ = ["SyslogAlertSink"]

_LEVEL = {Severity.CRITICAL: ALERT, Severity.WARNING: WARNING, Severity.INFO: INFO}


class SyslogAlertSink:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        transport: Literal["tcp", "udp"] = "tcp",
        facility: int = FACILITY_AUTHPRIV,
        hostname: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not 0 <= facility <= 23:
            raise ValueError("syslog facility must be between 0 and 23")
        self._connection = SyslogTransport(host, port, transport=transport, timeout=timeout)
        self._facility = facility
        self._hostname = hostname or socket.gethostname()

    @property
    def name(self) -> str:
        return self._connection.name

    def encode(self, alert: Alert) -> bytes:
        body = json.dumps(alert_json(alert), sort_keys=True, separators=(",", ":"))
        params: dict[str, object] = {"severity": alert.severity.value, "runbook": alert.runbook}
        prival = self._facility * 8 + _LEVEL[alert.severity]
        return rfc5424_message(
            prival, format_ts(alert.at), self._hostname, alert.kind, params, body.encode("utf-8")
        )

    async def deliver(self, alert: Alert) -> None:
        await self._connection.send([self.encode(alert)])

    async def close(self) -> None:
        await self._connection.close()
