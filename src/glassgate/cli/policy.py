"""``glassgate policy explain`` and ``glassgate policy test``.

``explain`` shows why a token (or a set of claims) gets its outcome on a
request, criterion by criterion, from the same code path the gateway runs.
``test`` runs a file of policy cases and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from glassgate.adapters.http.outbound import answer_for_decision
from glassgate.config.load import LoadedConfig, load_config
from glassgate.config.policy_tests import load_cases, principal_from_claims, run_case
from glassgate.core.engine import Evaluation, evaluate
from glassgate.core.paths import canonical_path
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.errors import ConfigError, PathRejectedError, Problem, TokenError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="explain and test the access policy")
    verbs = policy.add_subparsers(dest="verb", metavar="VERB", required=True)

    explain = verbs.add_parser("explain", help="why a request gets its outcome")
    explain.add_argument("--config", required=True)
    who = explain.add_mutually_exclusive_group()
    who.add_argument("--token", help="a real token, verified against the issuer's keys")
    who.add_argument("--claims", help="claims as JSON, checked but not signature-verified")
    explain.add_argument("--ip", default="127.0.0.1", help="client address (default 127.0.0.1)")
    explain.add_argument("--host", default="", help="Host header")
    explain.add_argument("--at", type=float, help="evaluate at this Unix time (default now)")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument("method")
    explain.add_argument("path")
    explain.set_defaults(handler=run_explain)

    test = verbs.add_parser("test", help="run policy test cases")
    test.add_argument("--config", required=True)
    test.add_argument("cases", nargs="+", help="YAML case files")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.set_defaults(handler=run_test)


def _principal(args: argparse.Namespace, loaded: LoadedConfig, now: float) -> Principal | None:
    if args.claims is not None:
        try:
            claims = json.loads(args.claims)
        except json.JSONDecodeError as exc:
            raise ConfigError([Problem("--claims", f"not valid JSON: {exc.msg}")]) from None
        if not isinstance(claims, dict):
            raise ConfigError([Problem("--claims", "must be a JSON object")])
        return principal_from_claims(loaded, claims, now)
    if args.token is not None:
        return asyncio.run(_verify(loaded, args.token, now))
    return None


async def _verify(loaded: LoadedConfig, token: str, now: float) -> Principal:
    import httpx

    from glassgate.adapters.idp.authenticator import build_authenticator

    async with httpx.AsyncClient(trust_env=False) as http:
        authenticator = build_authenticator(loaded.config, http)
        await authenticator.start()
        try:
            return await authenticator.authenticate(token, now)
        finally:
            await authenticator.aclose()


def run_explain(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    now = args.at if args.at is not None else time.time()
    try:
        path = canonical_path(args.path)
    except PathRejectedError as exc:
        print(f"outcome:   rejected (400): {exc}")
        return 0
    try:
        principal = _principal(args, loaded, now)
        reason = Reason.TOKEN_MISSING
    except TokenError as exc:
        principal, reason = None, Reason.TOKEN_INVALID
        print(f"token:     invalid ({exc.detail}): {exc}")
    request = AccessRequest(args.method.upper(), path, ip_address(args.ip), args.host.lower())
    evaluation = evaluate(loaded.compiled.policy, request, principal, now, credential_reason=reason)
    if args.json:
        print(json.dumps(_as_json(evaluation, principal), indent=2))
    else:
        _print_explanation(request, principal, evaluation)
    return 0


def _as_json(evaluation: Evaluation, principal: Principal | None) -> dict[str, Any]:
    decision = evaluation.decision
    return {
        "outcome": str(decision.outcome),
        "status": decision.outcome.status,
        "route": decision.route_id,
        "reasons": [str(r) for r in decision.reasons],
        "subject": principal.subject if principal else None,
        "trace": [
            {
                "criterion": step.name,
                "effect": step.verdict.effect.value if step.verdict else "not-evaluated",
                "reason": str(step.verdict.reason) if step.verdict else None,
                "detail": step.verdict.detail if step.verdict else None,
            }
            for step in evaluation.trace
        ],
    }


def _print_explanation(
    request: AccessRequest, principal: Principal | None, evaluation: Evaluation
) -> None:
    print(f"request:   {request.method} {request.path} from {request.client_ip}")
    if principal is None:
        print("principal: none (no valid credential)")
    else:
        print(
            f"principal: sub={principal.subject} groups={sorted(principal.groups)} "
            f"amr={sorted(principal.amr)} acr={principal.acr or '-'} "
            f"auth_time={principal.auth_time if principal.auth_time is not None else '-'}"
        )
    route = evaluation.route.id if evaluation.route else "none"
    print(f"route:     {route} (match: {evaluation.match.name.lower()})")
    for step in evaluation.trace:
        verdict = step.verdict
        if verdict is None:
            print(f"  {step.name:<14} not evaluated (an earlier criterion denied)")
        else:
            print(f"  {step.name:<14} {verdict.effect.value:<8} {verdict.reason}: {verdict.detail}")
    decision = evaluation.decision
    print(f"outcome:   {decision.outcome} ({decision.outcome.status}) reason={decision.reason}")
    if decision.would_be is not None:
        print(f"would be:  {decision.would_be.outcome} (not enforced: {decision.reason})")
    if not decision.allowed:
        for name, value in answer_for_decision(decision).headers:
            if name == b"www-authenticate":
                print(f"header:    WWW-Authenticate: {value.decode()}")


def run_test(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    failed = total = 0
    for file in args.cases:
        text = Path(file).read_text(encoding="utf-8")
        fixed_now, cases = load_cases(text, file)
        now = fixed_now if fixed_now is not None else time.time()
        for case in cases:
            result = run_case(loaded, case, now)
            total += 1
            if result.passed:
                if args.verbose:
                    print(f"PASS {file}: {result.name}")
                continue
            failed += 1
            print(f"FAIL {file}: {result.name}")
            for failure in result.failures:
                print(f"     {failure}")
    print(f"{total - failed} passed, {failed} failed", file=sys.stdout)
    return 1 if failed else 0
