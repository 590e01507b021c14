from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

from glassgate.audit.chain import GENESIS, link
from glassgate.audit.events import decision_event
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.principal import CredentialKind, Principal, token_fingerprint
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from tests.support.audit import T0

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
REQUEST = AccessRequest("GET", "/api/items/7", ip_address("192.0.2.10"), host="api.example")
ALICE = Principal(
    subject="alice@example.com",
    issuer="https://example.okta.com/oauth2/default",
    groups=frozenset({"Engineering", "Everyone"}),
    amr=frozenset({"pwd", "hwk"}),
    acr="phr",
    client_id="cli-1",
    token_id="jti-123",
    token_hash=token_fingerprint(TOKEN),
)
ALLOW = Decision(Outcome.ALLOW, "items", (Reason.ROUTE_OK, Reason.GROUPS_OK))


def test_allowed_decision_event() -> None:
    made = decision_event(ALLOW, REQUEST, ALICE, at=T0, request_id="req-1")
    assert (made.type, made.outcome, made.route, made.subject) == (
        "decision",
        "allow",
        "items",
        "alice@example.com",
    )
    assert made.reasons == ("route-ok", "groups-ok")
    assert made.token_hash == token_fingerprint(TOKEN)
    assert made.jti == "jti-123"
    assert not made.is_privileged
    assert made.details["groups"] == ["Engineering", "Everyone"]
    assert made.details["client_ip"] == "192.0.2.10"
    record = link(GENESIS, [made])[0]
    assert TOKEN.encode() not in record.body


def test_step_up_and_report_only_details() -> None:
    step_up = Decision(
        Outcome.STEP_UP,
        "admin",
        (Reason.AUTH_STRENGTH_INSUFFICIENT,),
        challenge=Challenge(("phr",), 300),
    )
    made = decision_event(step_up, REQUEST, ALICE, at=T0)
    assert (made.details["acr_values"], made.details["max_age"]) == (["phr"], 300)
    report_only = Decision(
        Outcome.ALLOW, "pilot", (Reason.REPORT_ONLY,), would_be=Decision(Outcome.DENY, "pilot", ())
    )
    assert decision_event(report_only, REQUEST, ALICE, at=T0).details["would_be"] == "deny"


def test_unauthenticated_without_a_principal() -> None:
    refused = Decision(Outcome.UNAUTHENTICATED, "items", (Reason.TOKEN_INVALID,))
    made = decision_event(refused, REQUEST, None, at=T0, auth_error="token-expired")
    assert made.subject is None
    assert made.token_hash is None
    assert made.details["auth_error"] == "token-expired"


def test_hostile_client_values_are_cleaned_not_fatal() -> None:
    hostile = AccessRequest("GET", f"/x/{TOKEN}/" + "a" * 10_000, ip_address("192.0.2.1"))
    made = decision_event(ALLOW, hostile, None, at=T0, request_id=f"Bearer {TOKEN}")
    path = str(made.details["path"])
    assert TOKEN not in path
    assert "[redacted]" in path
    assert len(path) <= 2048
    assert made.request_id is not None
    assert TOKEN not in made.request_id


def test_break_glass_credential_makes_the_decision_privileged() -> None:
    glass = Principal(subject="bg-1", issuer="glassgate", kind=CredentialKind.BREAKGLASS)
    assert decision_event(ALLOW, REQUEST, glass, at=T0).is_privileged
    assert decision_event(ALLOW, REQUEST, ALICE, at=T0, privileged=True).is_privileged


def test_a_token_hash_that_is_not_a_digest_is_left_out() -> None:
    odd = Principal(subject="svc", issuer="glassgate", token_hash="not-a-digest")
    assert decision_event(ALLOW, REQUEST, odd, at=T0).token_hash is None


def test_a_huge_group_list_is_cut_and_its_size_kept() -> None:
    many = replace(ALICE, groups=frozenset(f"g{index:03}" for index in range(80)))
    details = decision_event(ALLOW, REQUEST, many, at=T0).details
    assert len(details["groups"]) == 50
    assert details["groups_total"] == 80


def test_rate_limit_details() -> None:
    limited = Decision(
        Outcome.RATE_LIMITED, "items", (Reason.QUOTA_EXCEEDED,), retry_after=1.5, quota_tier="std"
    )
    details = decision_event(limited, REQUEST, ALICE, at=T0).details
    assert (details["retry_after"], details["quota_tier"]) == (1.5, "std")


def test_the_grant_ids_are_those_of_this_principal_not_a_cached_look_alike() -> None:
    """Built once per principal and reused: two principals alike but for their grants differ."""
    granted = replace(ALICE, grants=("grant-1",))
    assert decision_event(ALLOW, REQUEST, granted, at=T0).details["grants"] == ["grant-1"]
    assert "grants" not in decision_event(ALLOW, REQUEST, ALICE, at=T0).details
    regranted = replace(ALICE, grants=("grant-2",))
    assert decision_event(ALLOW, REQUEST, regranted, at=T0).details["grants"] == ["grant-2"]
