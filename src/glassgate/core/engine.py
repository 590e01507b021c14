"""decide(): the one place a request, a principal and a policy become a Decision.

See ``core.decision`` for the precedence ladder. ``evaluate`` is the same code
path with a trace, used by ``policy explain`` and ``policy test``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from glassgate.core.criteria.base import CompiledCriterion, Context, Effect, Verdict
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.core.routes import Match

__all__ = ["Evaluation", "TraceStep", "decide", "decide_route", "evaluate"]

_NO_RISK: Mapping[str, Any] = MappingProxyType({})

_NOT_FOUND = Decision(Outcome.DENY, None, (Reason.ROUTE_NOT_FOUND,))
_METHOD_DENIED = Decision(Outcome.DENY, None, (Reason.METHOD_DENIED,))
_BREAKGLASS_ELSEWHERE = Decision(Outcome.DENY, None, (Reason.BREAKGLASS_OUT_OF_SCOPE,))


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One criterion as evaluated (``verdict`` None: not reached, an earlier one denied)."""

    name: str
    verdict: Verdict | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    match: Match
    route: CompiledRoute | None
    decision: Decision
    trace: tuple[TraceStep, ...]


def decide(
    policy: Policy,
    request: AccessRequest,
    principal: Principal | None,
    now: float,
    risk: Mapping[str, Any] = _NO_RISK,
    credential_reason: Reason = Reason.TOKEN_MISSING,
) -> Decision:
    """Decide one request. ``principal`` is None when no valid credential came with it;
    ``credential_reason`` then says why (token-missing or token-invalid)."""
    return _decide(policy, request, principal, now, risk, credential_reason, None)[2]


def decide_route(
    policy: Policy,
    request: AccessRequest,
    principal: Principal | None,
    now: float,
    risk: Mapping[str, Any] = _NO_RISK,
    credential_reason: Reason = Reason.TOKEN_MISSING,
) -> tuple[CompiledRoute | None, Decision]:
    """``decide``, with the route it resolved (None: none matched), so nobody looks it up again."""
    _, route, decision = _decide(policy, request, principal, now, risk, credential_reason, None)
    return route, decision


def evaluate(
    policy: Policy,
    request: AccessRequest,
    principal: Principal | None,
    now: float,
    risk: Mapping[str, Any] = _NO_RISK,
    credential_reason: Reason = Reason.TOKEN_MISSING,
) -> Evaluation:
    """``decide`` with the per-criterion trace kept."""
    trace: list[TraceStep] = []
    match, route, decision = _decide(
        policy, request, principal, now, risk, credential_reason, trace
    )
    return Evaluation(match, route, decision, tuple(trace))


def _decide(
    policy: Policy,
    request: AccessRequest,
    principal: Principal | None,
    now: float,
    risk: Mapping[str, Any],
    credential_reason: Reason,
    trace: list[TraceStep] | None,
) -> tuple[Match, CompiledRoute | None, Decision]:
    match, route = policy.routes.lookup(request.method, request.host, request.path)
    if route is not None and route.anonymous:
        return match, route, Decision(Outcome.ALLOW, route.id, (Reason.ANONYMOUS_OK,))
    if principal is None:
        route_id = route.id if route is not None else None
        return match, route, Decision(Outcome.UNAUTHENTICATED, route_id, (credential_reason,))
    if route is None:
        if principal.kind is CredentialKind.BREAKGLASS:
            return match, None, _BREAKGLASS_ELSEWHERE
        return match, None, _METHOD_DENIED if match is Match.PARTIAL else _NOT_FOUND
    if not route.accepts_issuer(principal):
        return match, route, Decision(Outcome.DENY, route.id, (Reason.ISSUER_DENIED,))
    if not route.in_scope_of(principal):
        return match, route, Decision(Outcome.DENY, route.id, (_scope_reason(principal),))
    ctx = Context(request, principal, now, risk)
    enforced = _run_criteria(route, ctx, trace)
    return match, route, _apply_rollout(route, principal, enforced)


def _scope_reason(principal: Principal) -> Reason:
    """A break-glass session reaches its recovery routes only: anything else is named so."""
    if principal.kind is CredentialKind.BREAKGLASS:
        return Reason.BREAKGLASS_OUT_OF_SCOPE
    return Reason.ROUTE_SCOPE_DENIED


def _run_criteria(route: CompiledRoute, ctx: Context, trace: list[TraceStep] | None) -> Decision:
    reasons: list[Reason] = [Reason.ROUTE_OK]
    challenge: Challenge | None = None
    first_step_up: Reason | None = None
    for index, criterion in enumerate(route.criteria):
        verdict = criterion.check(ctx)
        if trace is not None:
            trace.append(TraceStep(criterion.name, verdict))
        reasons.append(verdict.reason)
        if verdict.effect is Effect.DENY:
            if trace is not None:
                _trace_rest(route.criteria[index + 1 :], trace)
            return Decision(Outcome.DENY, route.id, tuple(reasons))
        if verdict.effect is Effect.STEP_UP:
            # A step-up without a challenge still steps up (never fail open).
            wanted = verdict.challenge if verdict.challenge is not None else Challenge()
            challenge = wanted if challenge is None else challenge.merge(wanted)
            first_step_up = first_step_up or verdict.reason
    if challenge is not None and first_step_up is not None:
        # The deciding reason goes last (``Decision.reason``): the first shortfall.
        reasons.remove(first_step_up)
        reasons.append(first_step_up)
        return Decision(Outcome.STEP_UP, route.id, tuple(reasons), challenge=challenge)
    return Decision(Outcome.ALLOW, route.id, tuple(reasons), quota_tier=route.quota_tier)


def _trace_rest(rest: tuple[CompiledCriterion, ...], trace: list[TraceStep]) -> None:
    trace.extend(TraceStep(criterion.name, None) for criterion in rest)


def _apply_rollout(route: CompiledRoute, principal: Principal, enforced: Decision) -> Decision:
    """Report-only routes and non-pilot principals pass, keeping the would-be decision."""
    if enforced.outcome is Outcome.ALLOW:
        return enforced
    if route.report_only:
        reason = Reason.REPORT_ONLY
    elif route.pilot_groups and principal.groups.isdisjoint(route.pilot_groups):
        reason = Reason.PILOT_EXEMPT
    else:
        return enforced
    return Decision(
        Outcome.ALLOW,
        route.id,
        (*enforced.reasons, reason),
        quota_tier=route.quota_tier,
        would_be=enforced,
    )
