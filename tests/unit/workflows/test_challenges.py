"""Bound challenges: the assertion commits to what it authorises, once, for five minutes."""

from __future__ import annotations

import hashlib

import pytest

from glassgate.errors import AuthenticationFailedError
from glassgate.workflows.challenges import ChallengePurpose, consume, issue_challenge

DECIDE = ChallengePurpose.DECIDE
FIELDS = {"request_id": "R1", "decision": "approve", "approver": "custodian:alice"}


def test_value_commits_to_nonce_and_binding() -> None:
    challenge = issue_challenge(DECIDE, "custodian:alice", FIELDS, 0.0)
    assert (
        challenge.value
        == hashlib.sha256(challenge.nonce + bytes.fromhex(challenge.binding)).digest()
    )
    other = issue_challenge(DECIDE, "custodian:alice", FIELDS, 0.0)
    assert other.value != challenge.value  # fresh nonce every time
    used = consume(challenge, DECIDE, "custodian:alice", FIELDS, 10.0)
    assert used.used_at == 10.0


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("replayed", "challenge-replayed"),
        ("expired", "challenge-expired"),
        ("unknown", "challenge-unknown"),
        ("other-request", "challenge-mismatch"),
        ("other-decision", "challenge-mismatch"),
        ("other-person", "challenge-mismatch"),
        ("other-purpose", "challenge-mismatch"),
    ],
)
def test_refusals(case: str, detail: str) -> None:
    challenge = issue_challenge(DECIDE, "custodian:alice", FIELDS, 0.0)
    fields, subject, purpose, now = dict(FIELDS), "custodian:alice", DECIDE, 10.0
    given = None if case == "unknown" else challenge
    if case == "replayed":
        given = consume(challenge, DECIDE, subject, FIELDS, 5.0)
    elif case == "expired":
        now = 300.0
    elif case == "other-request":
        fields["request_id"] = "R2"
    elif case == "other-decision":
        fields["decision"] = "deny"
    elif case == "other-person":
        subject = "custodian:bob"
    elif case == "other-purpose":
        purpose = ChallengePurpose.SIGN_IN
    with pytest.raises(AuthenticationFailedError) as refused:
        consume(given, purpose, subject, fields, now)
    assert refused.value.detail == detail
