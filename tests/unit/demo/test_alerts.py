"""demo.alerts: signed break-glass alerts are checked, then printed for the person at the demo."""

from __future__ import annotations

import io
import json

import pytest

from glassgate.adapters.audit_sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_body
from glassgate.demo._http import Request
from glassgate.demo.alerts import AlertInbox
from glassgate.types import Secret

SECRET = Secret("demo-alerts-secret")
ALERT = {"kind": "breakglass.activation.activated", "severity": "critical", "summary": "ops in"}


def _post(body: bytes, *, secret: Secret = SECRET, method: str = "POST") -> Request:
    signature = sign_body(secret, "1700000000", body)
    headers = ((TIMESTAMP_HEADER, "1700000000"), (SIGNATURE_HEADER, signature))
    return Request(method, "/alerts", headers, body)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_signed_alert_is_printed(as_json: bool) -> None:
    out = io.StringIO()
    answer = AlertInbox(SECRET, out, as_json=as_json).handle(
        _post(json.dumps({"alert": ALERT}).encode())
    )
    assert answer.status == 200
    line = out.getvalue().strip()
    if as_json:
        assert json.loads(line) == {"alert": ALERT}
    else:
        assert line == "[alert] critical breakglass.activation.activated: ops in"


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        pytest.param(_post(b'{"alert": {}}', secret=Secret("other")), 401, id="case=bad-signature"),
        pytest.param(_post(b'{"alert": {}}', method="GET"), 401, id="case=not-a-post"),
        pytest.param(_post(b"not json"), 400, id="case=not-json"),
        pytest.param(_post(b'{"alert": {"kind": "x"}}'), 400, id="case=not-an-alert"),
        pytest.param(_post(b"[1]"), 400, id="case=wrong-shape"),
    ],
)
def test_anything_else_is_refused_and_not_printed(request_: Request, status: int) -> None:
    out = io.StringIO()
    assert AlertInbox(SECRET, out).handle(request_).status == status
    assert out.getvalue() == ""
