"""Console sign-ins: bearer form, and every refusal the same sign-in failure."""

from __future__ import annotations

import pytest

from glassgate.errors import AuthenticationFailedError
from glassgate.workflows.consoles import (
    check_console,
    close_console,
    open_console,
    parse_console_token,
)


def test_open_check_close() -> None:
    token, session = open_console("custodian:alice", "10.0.0.5", "key1", 100.0, 900.0)
    parsed = parse_console_token(token.reveal())
    assert parsed is not None
    assert parsed[0] == session.id
    assert parsed[1] not in repr(session)
    check_console(session, parsed[1], "10.0.0.5", 200.0)
    cases = [
        (None, parsed[1], "10.0.0.5", 200.0, "console-session-unknown"),
        (session, "wrong", "10.0.0.5", 200.0, "console-session-unknown"),
        (session, parsed[1], "10.0.0.5", 1000.0, "console-session-ended"),
        (close_console(session, 150.0), parsed[1], "10.0.0.5", 200.0, "console-session-ended"),
        (session, parsed[1], "10.0.0.6", 200.0, "console-session-address"),
    ]
    for found, secret, address, now, detail in cases:
        with pytest.raises(AuthenticationFailedError) as refused:
            check_console(found, secret, address, now)
        assert refused.value.detail == detail
    assert parse_console_token("ggbg_" + parsed[0] + "_x") is None
