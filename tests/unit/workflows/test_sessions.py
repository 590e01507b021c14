"""Break-glass sessions: bounded, bound to the address, ended by the right people."""

from __future__ import annotations

import pytest

from glassgate.errors import (
    ActionForbiddenError,
    InvalidTransitionError,
    SessionAddressError,
    SessionEndedError,
    WorkflowInputError,
)
from glassgate.workflows.sessions import (
    SessionState,
    check_use,
    end,
    expire,
    note_use,
    parse_session_token,
    start_session,
)


def started(ttl: float = 1800.0):  # type: ignore[no-untyped-def]
    issued, events = start_session(
        "R1", "ops", drill=False, scope=("okta-admin",), client_ip="10.0.0.5", ttl=ttl, now=100.0
    )
    assert events[0].name == "session.started"
    return issued


def secret_of(token: str) -> str:
    parsed = parse_session_token(token)
    assert parsed is not None
    return parsed[1]


def test_token_is_shown_once_and_stored_hashed() -> None:
    issued = started()
    token = issued.token.reveal()
    assert token.startswith("ggbg_")
    session_id, secret = parse_session_token(token) or ("", "")
    assert session_id == issued.session.id
    assert secret not in repr(issued.session)
    assert issued.session.secret_hash != secret
    check_use(issued.session, secret, "10.0.0.5", 200.0)


@pytest.mark.parametrize(
    "token",
    ["", "ggbg_", "ggbg_short_x", "ggbg_" + "a" * 16, "ggbg_" + "!" * 16 + "_x", "x" * 200],
)
def test_malformed_tokens(token: str) -> None:
    assert parse_session_token(token) is None


def test_session_length_is_bounded_by_the_hard_maximum() -> None:
    with pytest.raises(WorkflowInputError):
        started(ttl=3601.0)
    with pytest.raises(WorkflowInputError):
        started(ttl=0.0)


def test_use_refusals() -> None:
    issued = started()
    session, secret = issued.session, secret_of(issued.token.reveal())
    with pytest.raises(SessionAddressError) as wrong_place:
        check_use(session, secret, "10.0.0.6", 200.0)
    assert wrong_place.value.status == 403
    with pytest.raises(SessionEndedError):
        check_use(session, "not-the-secret", "10.0.0.5", 200.0)
    with pytest.raises(SessionEndedError, match="expired"):
        check_use(session, secret, "10.0.0.5", 1900.0)
    ended, _ = end(session, "custodian:alice", 300.0, may_end=True)
    with pytest.raises(SessionEndedError, match="ended"):
        check_use(ended, secret, "10.0.0.5", 301.0)


def test_end_and_expire() -> None:
    session = started().session
    with pytest.raises(ActionForbiddenError):
        end(session, "breakglass:other", 200.0, may_end=False)
    ended, events = end(session, "breakglass:ops", 200.0, may_end=True)
    assert ended.state is SessionState.ENDED
    assert ended.ended_by == "breakglass:ops"
    assert events[0].name == "session.ended"
    with pytest.raises(InvalidTransitionError):
        end(ended, "custodian:alice", 201.0, may_end=True)
    with pytest.raises(InvalidTransitionError):
        expire(ended, 5000.0)
    with pytest.raises(InvalidTransitionError):
        expire(session, 1000.0)
    expired, events = expire(session, 1900.0)
    assert expired.state is SessionState.EXPIRED
    assert expired.ended_at == 1900.0
    with pytest.raises(InvalidTransitionError):
        end(session, "custodian:alice", 1900.0, may_end=True)


def test_first_use_then_rate_limited_summaries() -> None:
    session = started().session
    session, events = note_use(session, 110.0, summary_every=60.0)
    assert [e.name for e in events] == ["session.first-use"]
    assert session.first_use_at == 110.0
    for moment in (120.0, 130.0, 169.0):
        session, events = note_use(session, moment, summary_every=60.0)
        assert events == ()
    session, events = note_use(session, 171.0, summary_every=60.0)
    assert [(e.name, e.details["uses"]) for e in events] == [("session.use-summary", 4)]
    assert session.uses == 5


def test_a_session_needs_a_scope_and_reads_expired_once_over() -> None:
    from glassgate.workflows.views import SessionView

    with pytest.raises(WorkflowInputError, match="scope"):
        start_session("R1", "ops", drill=False, scope=(), client_ip="x", ttl=60, now=0)
    session = started().session
    assert SessionView.of(session, 100.0).state == "active"
    assert SessionView.of(session, 1900.0).state == "expired"


def test_reprs_name_no_secret() -> None:
    from glassgate.workflows.challenges import ChallengePurpose, issue_challenge
    from glassgate.workflows.keys import WebAuthnKey

    challenge = issue_challenge(ChallengePurpose.SIGN_IN, "sign-in:ops", {}, 0.0)
    assert challenge.nonce.hex() not in repr(challenge)
    key = WebAuthnKey("Y3JlZGVudGlhbC1pZC0xMjM0NTY3", "breakglass:ops", b"\x01" * 10, 0, 0.0)
    assert repr(key) == "WebAuthnKey('Y3JlZGVudGlhbC1p', identity='breakglass:ops')"
