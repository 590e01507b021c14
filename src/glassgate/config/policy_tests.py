"""Policy test cases (like ``opa test``): YAML cases -> engine -> expected outcome.

A case file::

    now: 1795434915                 # optional; default: the current time
    cases:
      - name: analyst-reads-reports
        request: {method: GET, path: /reports/q3, ip: 10.0.0.7, host: api.example.com}
        claims: {sub: alice, groups: [Analysts], auth_age_seconds: 60}   # null: no token
        expect: {outcome: allow, route: reports, reason: groups-ok, status: 200}

Claims get ``iss``, ``aud``, ``exp`` and ``iat`` from the first issuer unless
given, and pass the same type checks as a real token's claims; a claim set to
null is left out; ``auth_age_seconds`` sets ``auth_time = now - age``. A path is
canonicalised exactly as the gateway does (``outcome: path-rejected`` for a 400).
``expect.challenge`` (``acr_values``, ``max_age``) checks a step-up's challenge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import yaml

from glassgate.config.load import LoadedConfig
from glassgate.core.engine import Evaluation, evaluate
from glassgate.core.paths import canonical_path
from glassgate.core.principal import Principal, token_fingerprint
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.errors import ConfigError, PathRejectedError, Problem, TokenError
from glassgate.tokens.claims import check_claims, parse_payload
from glassgate.tokens.issuers import IssuerPolicy
from glassgate.tokens.mapping import to_principal

__all__ = ["CaseResult", "load_cases", "principal_from_claims", "run_case"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    passed: bool
    outcome: str
    status: int
    route: str | None
    reasons: tuple[str, ...]
    failures: tuple[str, ...]
    evaluation: Evaluation | None


def principal_from_claims(loaded: LoadedConfig, claims: Mapping[str, Any], now: float) -> Principal:
    """Claims -> Principal through the same checks as a verified token's claims."""
    issuer = loaded.config.issuers[0]
    full = {
        "iss": issuer.issuer,
        "aud": issuer.audiences[0],
        "exp": int(now) + 3600,
        "iat": int(now),
        "sub": "test-subject",
        **claims,
    }
    policy = next(
        (IssuerPolicy.from_config(i) for i in loaded.config.issuers if i.issuer == full["iss"]),
        IssuerPolicy.from_config(issuer),
    )
    frozen = parse_payload(json.dumps(full).encode())
    check_claims(frozen, policy, now)
    # No real token: the fingerprint of the claims stands in for one.
    return to_principal(frozen, policy, token_fingerprint(json.dumps(full, sort_keys=True)))


def load_cases(text: str, filename: str) -> tuple[float | None, list[dict[str, Any]]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("", f"not valid YAML: {exc}", file=filename)]) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ConfigError(
            [Problem("cases", "expected a mapping with a 'cases' list", file=filename)]
        )
    now = data.get("now")
    if now is not None and not isinstance(now, int | float):
        raise ConfigError([Problem("now", "must be a number (Unix time)", file=filename)])
    for index, case in enumerate(data["cases"]):
        if not isinstance(case, dict) or not isinstance(case.get("expect"), dict):
            raise ConfigError(
                [Problem(f"cases[{index}]", "needs request and expect", file=filename)]
            )
    return now, data["cases"]


def run_case(loaded: LoadedConfig, case: Mapping[str, Any], now: float) -> CaseResult:
    name = str(case.get("name", "unnamed"))
    request_spec = case.get("request") or {}
    expect = case["expect"]
    try:
        request = AccessRequest(
            method=str(request_spec.get("method", "GET")).upper(),
            path=canonical_path(str(request_spec.get("path", "/"))),
            client_ip=ip_address(str(request_spec.get("ip", "127.0.0.1"))),
            host=str(request_spec.get("host", "")).lower(),
        )
    except PathRejectedError:
        return _compare(name, expect, "path-rejected", 400, None, ("path-rejected",), None)
    principal, reason = _principal(loaded, case, now)
    evaluation = evaluate(loaded.compiled.policy, request, principal, now, credential_reason=reason)
    decision = evaluation.decision
    reasons = tuple(str(r) for r in decision.reasons)
    return _compare(
        name,
        expect,
        str(decision.outcome),
        decision.outcome.status,
        decision.route_id,
        reasons,
        evaluation,
    )


def _principal(
    loaded: LoadedConfig, case: Mapping[str, Any], now: float
) -> tuple[Principal | None, Reason]:
    given = case.get("claims")
    if given is None:
        return None, Reason.TOKEN_MISSING
    claims = {key: value for key, value in dict(given).items() if value is not None}
    age = claims.pop("auth_age_seconds", None)
    if age is not None:
        claims["auth_time"] = int(now - float(age))
    try:
        return principal_from_claims(loaded, claims, now), Reason.TOKEN_MISSING
    except TokenError:
        return None, Reason.TOKEN_INVALID


def _compare(
    name: str,
    expect: Mapping[str, Any],
    outcome: str,
    status: int,
    route: str | None,
    reasons: tuple[str, ...],
    evaluation: Evaluation | None,
) -> CaseResult:
    failures = []
    if "outcome" in expect and expect["outcome"] != outcome:
        failures.append(f"outcome: expected {expect['outcome']}, got {outcome}")
    if "status" in expect and expect["status"] != status:
        failures.append(f"status: expected {expect['status']}, got {status}")
    if "route" in expect and expect["route"] != route:
        failures.append(f"route: expected {expect['route']}, got {route}")
    if expect.get("reason") is not None and expect["reason"] not in reasons:
        failures.append(f"reason: expected {expect['reason']} among {list(reasons)}")
    wanted = expect.get("challenge")
    if wanted is not None:
        got = evaluation.decision.challenge if evaluation is not None else None
        acr = tuple(wanted.get("acr_values", ()))
        if got is None or got.acr_values != acr or got.max_age != wanted.get("max_age"):
            failures.append(f"challenge: expected {wanted}, got {got}")
    return CaseResult(
        name, not failures, outcome, status, route, reasons, tuple(failures), evaluation
    )
