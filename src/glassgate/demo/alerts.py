"""The demo's alert receiver: break-glass alerts, checked and printed where the user is looking.

The demo's config sends alerts to this receiver as a signed webhook (the
same signature as the audit webhook, ``adapters.audit_sinks.webhook``), with
``alerts.required: true``: so the demo shows what on-call would get at each
step (request, approvals, activation, first use, end), and an activation
that no sink accepted would be refused, exactly as in production. A body
whose signature does not verify is refused (401) and not printed. With
``--json`` each alert is one JSON line (``{"alert": {...}}``), like the summary.
"""

from __future__ import annotations

import hmac
import json
from typing import TextIO

from glassgate.adapters.audit_sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_body
from glassgate.demo._http import Request, Response
from glassgate.types import Secret

__all__ = ["AlertInbox"]


class AlertInbox:
    name = "glassgate demo alert receiver"

    def __init__(self, secret: Secret, out: TextIO, *, as_json: bool = False) -> None:
        self._secret = secret
        self._out = out
        self._as_json = as_json

    def handle(self, request: Request) -> Response:
        timestamp = request.header(TIMESTAMP_HEADER) or ""
        signature = request.header(SIGNATURE_HEADER) or ""
        expected = sign_body(self._secret, timestamp, request.body)
        if request.method != "POST" or not hmac.compare_digest(signature, expected):
            return Response.json(401, {"error": "signature does not verify"})
        try:
            alert = json.loads(request.body)["alert"]
            line = f"[alert] {alert['severity']} {alert['kind']}: {alert['summary']}"
        except (ValueError, KeyError, TypeError):
            return Response.json(400, {"error": "not an alert"})
        self._out.write((json.dumps({"alert": alert}) if self._as_json else line) + "\n")
        self._out.flush()
        return Response.json(200, {"received": alert["kind"]})
