"""A glassgate API key can never enter an audit record: refused in our values, masked in theirs."""

from __future__ import annotations

import pytest

from glassgate.audit.records import AuditEvent
from glassgate.audit.screening import redact_text
from glassgate.tokens.api_keys import issue_api_key

KEY = issue_api_key(name="bot", subject="svc:bot", now=0.0).key.reveal()


def test_a_key_in_client_text_is_masked() -> None:
    assert redact_text(f"/reports?api_key={KEY}&x=1") == "/reports?api_key=[redacted]&x=1"
    assert KEY[16:] not in redact_text(KEY.upper())


def test_a_key_in_our_own_values_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="token or credential"):
        AuditEvent(type="admin.apikey.create", outcome="ok", at=1.0, details={"name": KEY})


def test_a_key_id_alone_is_fine() -> None:
    event = AuditEvent(type="admin.apikey.revoke", outcome="ok", at=1.0, jti=KEY[3:15])
    assert event.jti == KEY[3:15]
