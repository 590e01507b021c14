"""core.engine: the precedence ladder, rollout modes and the evaluation trace."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from glassgate.core.criteria.base import Check, CompiledCriterion, Context, Effect, Verdict
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.engine import decide, evaluate
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.core.routes import Match, PathPattern, RouteTable, RouteTarget

NOW = 1_700_000_000.0
ISSUER = "http://127.0.0.1:9400"


def _fixed(verdict: Verdict) -> Check:
    def check(ctx: Context) -> Verdict:
        return verdict

    return check


PASS = CompiledCriterion("pass", _fixed(Verdict.ok(Reason.GROUPS_OK)))
DENY = CompiledCriterion("deny", _fixed(Verdict.deny(Reason.GROUPS_DENIED)))
STRENGTH = CompiledCriterion(
    "auth_strength",
    _fixed(
        Verdict.step_up(Reason.AUTH_STRENGTH_INSUFFICIENT, Challenge(acr_values=("loa2", "loa3")))
    ),
)
AGE = CompiledCriterion(
    "auth_age", _fixed(Verdict.step_up(Reason.AUTH_AGE_EXPIRED, Challenge(max_age=300)))
)


def _route(route_id: str, *criteria: CompiledCriterion, **options: object) -> CompiledRoute:
    return CompiledRoute(route_id, tuple(criteria), **options)  # type: ignore[arg-type]


def _policy(
    *routes: tuple[str, CompiledRoute] | tuple[str, CompiledRoute, tuple[str, ...]],
) -> Policy:
    targets = []
    for entry in routes:
        methods = entry[2] if len(entry) == 3 else ()
        targets.append(RouteTarget(PathPattern.parse(entry[0]), frozenset(methods), (), entry[1]))
    return Policy(RouteTable(targets))


def _request(path: str = "/app", method: str = "GET") -> AccessRequest:
    return AccessRequest(method=method, path=path, client_ip=ip_address("192.0.2.1"))


def _principal(*groups: str, issuer: str = ISSUER) -> Principal:
    return Principal(subject="alice", issuer=issuer, groups=frozenset(groups))


# --- the ladder --------------------------------------------------------------------------------


def test_no_route_is_denied() -> None:
    decision = decide(_policy(("/app/*", _route("app"))), _request("/other"), _principal(), NOW)
    assert decision == Decision(Outcome.DENY, None, (Reason.ROUTE_NOT_FOUND,))


def test_empty_policy_denies_everything() -> None:
    decision = decide(_policy(), _request("/"), _principal("Admins"), NOW)
    assert (decision.outcome, decision.reason) == (Outcome.DENY, Reason.ROUTE_NOT_FOUND)


@pytest.mark.parametrize(
    ("path", "route_id"),
    [
        pytest.param("/app/x", "app", id="case=known-route"),
        pytest.param("/unknown", None, id="case=unknown-route"),
    ],
)
@pytest.mark.parametrize("reason", [Reason.TOKEN_MISSING, Reason.TOKEN_INVALID])
def test_no_principal_is_unauthenticated_even_on_unknown_routes(
    path: str, route_id: str | None, reason: Reason
) -> None:
    policy = _policy(("/app/*", _route("app", DENY)))
    decision = decide(policy, _request(path), None, NOW, credential_reason=reason)
    assert decision == Decision(Outcome.UNAUTHENTICATED, route_id, (reason,))
    assert decision.outcome.status == 401


def test_default_credential_reason_is_token_missing() -> None:
    decision = decide(_policy(), _request(), None, NOW)
    assert decision.reasons == (Reason.TOKEN_MISSING,)


@pytest.mark.parametrize("principal", [None, _principal()], ids=["case=no-token", "case=token"])
def test_anonymous_route_allows_without_running_criteria(principal: Principal | None) -> None:
    policy = _policy(("/health", _route("health", DENY, anonymous=True)))
    decision = decide(policy, _request("/health"), principal, NOW)
    assert decision == Decision(Outcome.ALLOW, "health", (Reason.ANONYMOUS_OK,))


def test_method_mismatch_is_denied_as_method_denied() -> None:
    policy = _policy(("/app/*", _route("app"), ("GET",)))
    decision = decide(policy, _request("/app", "DELETE"), _principal(), NOW)
    assert decision == Decision(Outcome.DENY, None, (Reason.METHOD_DENIED,))


def test_method_mismatch_without_principal_is_unauthenticated() -> None:
    policy = _policy(("/app/*", _route("app"), ("GET",)))
    assert decide(policy, _request("/app", "DELETE"), None, NOW).outcome is Outcome.UNAUTHENTICATED


def test_issuer_restriction() -> None:
    route = _route("app", PASS, issuers=frozenset({ISSUER}))
    policy = _policy(("/app/*", route))
    assert decide(policy, _request(), _principal(), NOW).allowed
    other = decide(policy, _request(), _principal(issuer=ISSUER + "/"), NOW)
    assert other == Decision(Outcome.DENY, "app", (Reason.ISSUER_DENIED,))


def test_issuer_restriction_is_not_softened_by_report_only() -> None:
    route = _route("app", issuers=frozenset({ISSUER}), report_only=True)
    decision = decide(_policy(("/app/*", route)), _request(), _principal(issuer="x"), NOW)
    assert decision.outcome is Outcome.DENY


def test_all_criteria_pass_allows_with_quota_tier() -> None:
    route = _route("app", PASS, PASS, quota_tier="standard")
    decision = decide(_policy(("/app/*", route)), _request(), _principal(), NOW)
    assert decision == Decision(
        Outcome.ALLOW,
        "app",
        (Reason.ROUTE_OK, Reason.GROUPS_OK, Reason.GROUPS_OK),
        quota_tier="standard",
    )


def test_route_without_criteria_allows_any_principal() -> None:
    decision = decide(_policy(("/app/*", _route("app"))), _request(), _principal(), NOW)
    assert decision == Decision(Outcome.ALLOW, "app", (Reason.ROUTE_OK,))


def test_first_deny_decides() -> None:
    other_deny = CompiledCriterion("other", _fixed(Verdict.deny(Reason.SCOPES_INSUFFICIENT)))
    policy = _policy(("/app/*", _route("app", PASS, DENY, other_deny)))
    decision = decide(policy, _request(), _principal(), NOW)
    assert decision == Decision(
        Outcome.DENY, "app", (Reason.ROUTE_OK, Reason.GROUPS_OK, Reason.GROUPS_DENIED)
    )


@pytest.mark.parametrize(
    "criteria",
    [
        pytest.param((DENY, STRENGTH), id="case=deny-first"),
        pytest.param((STRENGTH, DENY), id="case=step-up-first"),
        pytest.param((AGE, STRENGTH, DENY), id="case=two-step-ups-then-deny"),
    ],
)
def test_deny_beats_step_up(criteria: tuple[CompiledCriterion, ...]) -> None:
    decision = decide(_policy(("/app/*", _route("app", *criteria))), _request(), _principal(), NOW)
    assert decision.outcome is Outcome.DENY
    assert decision.reason is Reason.GROUPS_DENIED
    assert decision.challenge is None


def test_step_up_challenges_merge() -> None:
    policy = _policy(("/app/*", _route("app", PASS, STRENGTH, AGE)))
    decision = decide(policy, _request(), _principal(), NOW)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.challenge == Challenge(acr_values=("loa2", "loa3"), max_age=300)
    # The deciding reason (the first shortfall) goes last, so Decision.reason names it.
    assert decision.reasons == (
        Reason.ROUTE_OK,
        Reason.GROUPS_OK,
        Reason.AUTH_AGE_EXPIRED,
        Reason.AUTH_STRENGTH_INSUFFICIENT,
    )
    assert decision.reason is Reason.AUTH_STRENGTH_INSUFFICIENT


def test_step_up_with_one_failing_criterion_keeps_its_challenge() -> None:
    decision = decide(_policy(("/app/*", _route("app", AGE, PASS))), _request(), _principal(), NOW)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.challenge == Challenge(max_age=300)


def test_step_up_verdict_without_challenge_still_steps_up() -> None:
    # Regression: the engine used to ignore a STEP_UP verdict whose challenge was None
    # and allowed the request (fail open).
    bare = CompiledCriterion(
        "bare", _fixed(Verdict(Effect.STEP_UP, Reason.AUTH_STRENGTH_INSUFFICIENT))
    )
    decision = decide(_policy(("/app/*", _route("app", bare))), _request(), _principal(), NOW)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.challenge == Challenge()


def test_step_up_reason_is_the_failing_criterion() -> None:
    ok_age = CompiledCriterion("auth_age", _fixed(Verdict.ok(Reason.AUTH_AGE_OK)))
    decision = decide(
        _policy(("/app/*", _route("app", STRENGTH, ok_age))), _request(), _principal(), NOW
    )
    assert decision.outcome is Outcome.STEP_UP
    assert decision.reason is Reason.AUTH_STRENGTH_INSUFFICIENT


def test_criteria_see_the_request_principal_and_now() -> None:
    seen: list[Context] = []

    def spy(ctx: Context) -> Verdict:
        seen.append(ctx)
        return Verdict.ok(Reason.CONDITION_OK)

    policy = _policy(("/app/*", _route("app", CompiledCriterion("spy", spy))))
    request, principal = _request("/app/x"), _principal("G")
    decide(policy, request, principal, NOW, risk={"score": 3})
    assert len(seen) == 1
    assert (seen[0].request, seen[0].principal, seen[0].now) == (request, principal, NOW)
    assert seen[0].risk == {"score": 3}


# --- report-only and pilot groups --------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "enforced"),
    [
        pytest.param(DENY, Outcome.DENY, id="case=deny"),
        pytest.param(STRENGTH, Outcome.STEP_UP, id="case=step-up"),
    ],
)
def test_report_only_allows_and_keeps_would_be(
    criterion: CompiledCriterion, enforced: Outcome
) -> None:
    route = _route("app", criterion, report_only=True, quota_tier="t")
    decision = decide(_policy(("/app/*", route)), _request(), _principal(), NOW)
    assert decision.outcome is Outcome.ALLOW
    assert decision.reason is Reason.REPORT_ONLY
    assert decision.quota_tier == "t"
    assert decision.would_be is not None
    assert decision.would_be.outcome is enforced
    assert decision.reasons == (*decision.would_be.reasons, Reason.REPORT_ONLY)


def test_report_only_passing_request_has_no_would_be() -> None:
    decision = decide(
        _policy(("/app/*", _route("app", PASS, report_only=True))), _request(), _principal(), NOW
    )
    assert decision.allowed
    assert decision.would_be is None
    assert Reason.REPORT_ONLY not in decision.reasons


def test_report_only_does_not_admit_the_unauthenticated() -> None:
    policy = _policy(("/app/*", _route("app", DENY, report_only=True)))
    assert decide(policy, _request(), None, NOW).outcome is Outcome.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("groups", "outcome"),
    [
        pytest.param(("Pilot",), Outcome.DENY, id="case=pilot-member-enforced"),
        pytest.param(("Pilot", "Other"), Outcome.DENY, id="case=pilot-member-plus"),
        pytest.param(("Other",), Outcome.ALLOW, id="case=non-member-exempt"),
        pytest.param((), Outcome.ALLOW, id="case=no-groups-exempt"),
        pytest.param(("pilot",), Outcome.ALLOW, id="case=lookalike-exempt"),
    ],
)
def test_pilot_groups(groups: tuple[str, ...], outcome: Outcome) -> None:
    route = _route("app", DENY, pilot_groups=frozenset({"Pilot"}))
    decision = decide(_policy(("/app/*", route)), _request(), _principal(*groups), NOW)
    assert decision.outcome is outcome
    if outcome is Outcome.ALLOW:
        assert decision.reason is Reason.PILOT_EXEMPT
        assert decision.would_be is not None
        assert decision.would_be.outcome is Outcome.DENY
    else:
        assert decision.would_be is None


# --- evaluate ----------------------------------------------------------------------------------


def test_evaluate_returns_the_same_decision_with_a_trace() -> None:
    policy = _policy(("/app/*", _route("app", PASS, DENY, STRENGTH)))
    evaluation = evaluate(policy, _request(), _principal(), NOW)
    assert evaluation.decision == decide(policy, _request(), _principal(), NOW)
    assert evaluation.match is Match.FULL
    assert evaluation.route is not None
    assert evaluation.route.id == "app"
    assert [(step.name, step.verdict) for step in evaluation.trace] == [
        ("pass", Verdict.ok(Reason.GROUPS_OK)),
        ("deny", Verdict.deny(Reason.GROUPS_DENIED)),
        ("auth_strength", None),
    ]


def test_evaluate_partial_match() -> None:
    policy = _policy(("/app/*", _route("app"), ("GET",)))
    evaluation = evaluate(policy, _request(method="POST"), _principal(), NOW)
    assert (evaluation.match, evaluation.route, evaluation.trace) == (Match.PARTIAL, None, ())
    assert evaluation.decision.reason is Reason.METHOD_DENIED


def test_route_scope_limits_machine_credentials() -> None:
    from dataclasses import replace

    policy = _policy(("/app/*", _route("app", PASS)))
    scoped = replace(_principal(), route_scope=frozenset({"other"}))
    decision = decide(policy, _request(), scoped, NOW)
    assert decision.outcome is Outcome.DENY
    assert decision.reason is Reason.ROUTE_SCOPE_DENIED
    allowed = replace(_principal(), route_scope=frozenset({"app"}))
    assert decide(policy, _request(), allowed, NOW).outcome is Outcome.ALLOW


def test_a_breakglass_session_outside_its_routes_is_out_of_scope() -> None:
    from dataclasses import replace

    from glassgate.core.principal import CredentialKind

    policy = _policy(("/api/*", _route("okta-admin")), ("/reports/*", _route("reports")))
    session = replace(
        _principal(), kind=CredentialKind.BREAKGLASS, route_scope=frozenset({"okta-admin"})
    )
    assert decide(policy, _request("/api/users"), session, NOW).allowed
    for path in ("/reports/q3", "/nowhere"):
        decision = decide(policy, _request(path), session, NOW)
        assert decision.reasons == (Reason.BREAKGLASS_OUT_OF_SCOPE,)
        assert decision.outcome is Outcome.DENY
    machine = replace(_principal(), route_scope=frozenset({"okta-admin"}))
    assert decide(policy, _request("/reports/q3"), machine, NOW).reasons == (
        Reason.ROUTE_SCOPE_DENIED,
    )
