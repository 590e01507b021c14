"""adapters.http.outbound from vectors: tests/vectors/http/outbound.yaml.

Every refusal answer is JSON, never cached, and carries the status of its
outcome (``Outcome.status``); the vectors pin the RFC 6750 / RFC 9470
challenges and the rate-limit headers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from glassgate.adapters.http.outbound import (
    answer_for_audit_failure,
    answer_for_decision,
    answer_for_rejection,
)
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.core.reasons import Reason
from glassgate.errors import HeaderTooLargeError, PathRejectedError

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "http" / "outbound.yaml"
_CASES: list[dict[str, Any]] = yaml.safe_load(VECTORS.read_text(encoding="utf-8"))["cases"]
_ALWAYS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def _decision(spec: dict[str, Any]) -> Decision:
    challenge = spec.get("challenge")
    return Decision(
        Outcome(spec["outcome"]),
        "r",
        tuple(Reason(r) for r in spec["reasons"]),
        challenge=None
        if challenge is None
        else Challenge(tuple(challenge.get("acr_values", ())), challenge.get("max_age")),
        retry_after=spec.get("retry_after"),
    )


def _quota(spec: dict[str, Any] | None) -> tuple[QuotaTier, QuotaResult] | None:
    if spec is None:
        return None
    tier = QuotaTier(**spec["tier"])
    return tier, QuotaResult(False, 0.0, 1.0, spec["remaining"], spec["reset_after"])


@pytest.mark.parametrize("case", [pytest.param(c, id=f"case={c['id']}") for c in _CASES])
def test_vector(case: dict[str, Any]) -> None:
    answer = answer_for_decision(_decision(case["decision"]), _quota(case.get("quota")))
    expect = case["expect"]
    assert answer.status == expect["status"]
    assert answer.status == Outcome(case["decision"]["outcome"]).status
    assert answer.headers[:2] == _ALWAYS
    wanted = [(n.encode(), v.encode()) for n, v in expect.get("headers", [])]
    assert [h for h in answer.headers if h in wanted] == wanted
    names = {name for name, _ in answer.headers}
    assert not names & {n.encode() for n in expect.get("absent", [])}
    if "body" in expect:
        assert json.loads(answer.body) == expect["body"]


def test_every_refusal_outcome_has_a_vector() -> None:
    covered = {Outcome(case["decision"]["outcome"]) for case in _CASES}
    assert covered == set(Outcome) - {Outcome.ALLOW}


def test_an_allow_is_never_answered() -> None:
    with pytest.raises(ValueError, match="forwarded"):
        answer_for_decision(Decision(Outcome.ALLOW, "r", (Reason.ROUTE_OK,)))


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        pytest.param(PathRejectedError("x"), 400, "path_rejected", id="case=path"),
        pytest.param(HeaderTooLargeError("x"), 431, "header_too_large", id="case=headers"),
    ],
)
def test_rejections_answer_their_status_and_code_never_the_message(
    error: PathRejectedError | HeaderTooLargeError, status: int, code: str
) -> None:
    answer = answer_for_rejection(error)
    assert answer.status == status
    assert answer.headers == _ALWAYS
    assert json.loads(answer.body) == {"error": "bad_request", "reason": code}


def test_audit_failure_is_503_with_a_retry() -> None:
    answer = answer_for_audit_failure()
    assert answer.status == 503
    assert (b"retry-after", b"5") in answer.headers
    assert json.loads(answer.body) == {"error": "audit_unavailable", "reason": "audit-unavailable"}
