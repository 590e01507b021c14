"""adapters.http.gate from vectors (tests/vectors/http/gate.yaml), and what every result carries.

Each vector is one request through a fresh ``Gate`` (fake authenticator, memory
quotas, a ``FrozenClock``): the result must hold the decision, the route it was
made on and the one clock reading, and every sink and the audit see it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import yaml

from glassgate.adapters.http.gate import Gate, GateResult
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import load_config_text
from glassgate.core.decision import Outcome
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest, IPAddress
from glassgate.errors import AuditUnavailableError, StorageUnavailableError
from tests.support.clock import FrozenClock
from tests.support.proxy_harness import FakeAuthenticator

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "http" / "gate.yaml"
_DATA: dict[str, Any] = yaml.safe_load(VECTORS.read_text(encoding="utf-8"))
_COMPILED = load_config_text(_DATA["config"], "gate.yaml", {}).compiled


class Recorder:
    def __init__(self) -> None:
        self.results: list[GateResult] = []

    def record(self, result: GateResult) -> None:
        self.results.append(result)


class Audit:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.seen: list[tuple[GateResult, float]] = []

    async def audit(self, result: GateResult, now: float) -> None:
        self.seen.append((result, now))
        if self.refuse:
            raise AuditUnavailableError("down")


def _gate(clock: FrozenClock, sink: Recorder, audit: Audit) -> Gate:
    return Gate(
        _COMPILED.policy,
        FakeAuthenticator(),
        MemoryQuotaStore(),
        dict(_COMPILED.quota_tiers),
        clock,
        (sink,),
        audit,
    )


def _facts(case: dict[str, Any]) -> RequestFacts:
    path = case["path"]
    request = AccessRequest(case.get("method", "GET"), path, ip_address("192.0.2.7"), "api")
    malformed = bool(case.get("malformed"))
    return RequestFacts(request, path, b"", case.get("token"), malformed, False, None)


@pytest.mark.parametrize("case", [pytest.param(c, id=f"case={c['id']}") for c in _DATA["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    clock, sink, audit = FrozenClock(), Recorder(), Audit()
    result = asyncio.run(_gate(clock, sink, audit).check(_facts(case)))
    observed = {
        "outcome": str(result.decision.outcome),
        "reason": str(result.decision.reason),
        "route": None if result.route is None else result.route.id,
        "detail": result.token_detail,
        "tier": None if result.quota is None else result.quota[0].name,
    }
    assert {name: observed[name] for name in case["expect"]} == case["expect"]
    # The result is whole: the route object itself, and the one clock reading.
    assert result.route is _COMPILED.policy.by_id.get(result.decision.route_id or "")
    assert result.decided_at == clock.value
    assert sink.results == [result]
    assert audit.seen == [(result, clock.value)]


def test_the_quota_turns_the_second_request_into_429() -> None:
    clock, sink, audit = FrozenClock(), Recorder(), Audit()
    gate = _gate(clock, sink, audit)
    case = {"path": "/metered/x", "token": "tok-staff"}
    first = asyncio.run(gate.check(_facts(case)))
    second = asyncio.run(gate.check(_facts(case)))
    assert first.decision.outcome is Outcome.ALLOW
    assert second.decision.outcome is Outcome.RATE_LIMITED
    assert second.quota is not None
    assert second.quota[1].retry_after > 0


def test_a_refusing_audit_stops_the_request_after_the_sinks_saw_it() -> None:
    sink, audit = Recorder(), Audit(refuse=True)
    gate = _gate(FrozenClock(), sink, audit)
    with pytest.raises(AuditUnavailableError):
        asyncio.run(gate.check(_facts({"path": "/staff/x", "token": "tok-staff"})))
    assert len(sink.results) == 1


class AddGroup:
    """A ``PrincipalEnricher`` that adds one group and remembers whom it saw."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.seen: list[Principal] = []

    def enrich(self, principal: Principal, now: float) -> Principal:
        self.seen.append(principal)
        return replace(principal, groups=principal.groups | {self.group})


class BreakglassSessions:
    async def authenticate(self, raw: str, client: IPAddress) -> Principal:
        return Principal("ops", "glassgate:breakglass", kind=CredentialKind.BREAKGLASS)


def _enriching_gate(enricher: AddGroup) -> Gate:
    """A gate with one enricher and a break-glass door (``ggbg_`` sessions)."""
    return Gate(
        _COMPILED.policy,
        FakeAuthenticator(),
        MemoryQuotaStore(),
        dict(_COMPILED.quota_tiers),
        FrozenClock(),
        breakglass=BreakglassSessions(),
        enrichers=(enricher,),
    )


def test_enrichers_add_to_principals_of_the_credential_path() -> None:
    enricher = AddGroup("staff")
    gate = _enriching_gate(enricher)
    plain = _gate(FrozenClock(), Recorder(), Audit())
    case = {"path": "/staff/x", "token": "tok-other"}  # the token says group "other" only
    assert asyncio.run(plain.check(_facts(case))).decision.outcome is Outcome.DENY
    result = asyncio.run(gate.check(_facts(case)))
    assert result.decision.outcome is Outcome.ALLOW
    assert result.principal is not None
    assert result.principal.groups == {"other", "staff"}
    assert [p.subject for p in enricher.seen] == ["user-other"]


def test_break_glass_principals_are_never_enriched() -> None:
    enricher = AddGroup("staff")
    gate = _enriching_gate(enricher)
    result = asyncio.run(gate.check(_facts({"path": "/staff/x", "token": "ggbg_s_secret"})))
    assert result.principal is not None
    assert result.principal.groups == frozenset()
    assert result.decision.outcome is Outcome.DENY
    assert enricher.seen == []


class DownStore:
    """A quota store that cannot be asked (Redis stopped)."""

    async def hit(self, tier: object, key: str, now: float) -> object:
        raise StorageUnavailableError("the quota store (Redis) failed: ConnectionError")

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize(
    ("fail_open", "outcome"), [(False, Outcome.UNAVAILABLE), (True, Outcome.ALLOW)]
)
def test_a_quota_store_outage_answers_with_the_tier_choice(
    fail_open: bool, outcome: Outcome, caplog: pytest.LogCaptureFixture
) -> None:
    tiers = {name: replace(t, fail_open=fail_open) for name, t in _COMPILED.quota_tiers.items()}
    sink, audit = Recorder(), Audit()
    gate = Gate(
        _COMPILED.policy, FakeAuthenticator(), DownStore(), tiers, FrozenClock(), (sink,), audit
    )  # type: ignore[arg-type]
    facts = _facts({"path": "/metered/x", "token": "tok-staff"})
    results = [asyncio.run(gate.check(facts)) for _ in range(2)]
    for result in results:
        assert result.decision.outcome is outcome
        assert result.decision.reason is Reason.QUOTA_STORE_UNAVAILABLE
        assert result.quota is None  # nothing was counted: no RateLimit headers to give
    assert sink.results == results  # counted in the decision metrics, and audited
    assert len(audit.seen) == 2
    assert caplog.text.count("the quota store cannot be asked") == 1  # once, not per request


def test_the_store_coming_back_is_logged_once() -> None:
    class Flaky(MemoryQuotaStore):
        down = True

        async def hit(self, tier: Any, key: str, now: float) -> Any:
            if self.down:
                raise StorageUnavailableError("down")
            return await super().hit(tier, key, now)

    store = Flaky()
    gate = Gate(
        _COMPILED.policy, FakeAuthenticator(), store, dict(_COMPILED.quota_tiers), FrozenClock()
    )
    facts = _facts({"path": "/metered/x", "token": "tok-staff"})
    assert asyncio.run(gate.check(facts)).decision.outcome is Outcome.UNAVAILABLE
    store.down = False
    back = asyncio.run(gate.check(facts))
    assert back.decision.outcome is Outcome.ALLOW
    assert back.quota is not None
