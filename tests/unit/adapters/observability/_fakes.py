"""Small stand-ins for the gateway state the observer reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from ipaddress import ip_address
from types import SimpleNamespace
from typing import Any

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.config.schema import ObservabilityConfig
from glassgate.core.decision import Decision, Outcome
from glassgate.core.principal import Principal
from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.tokens.keyring import KeyRing

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


@dataclass
class FakeKeys:
    keyrings: dict[str, KeyRing] = field(default_factory=lambda: {"idp": KeyRing("idp")})
    fetches_by_issuer: Counter[str] = field(default_factory=Counter)
    failures_by_issuer: Counter[str] = field(default_factory=Counter)


@dataclass
class FakeHolder:
    config: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    keys: FakeKeys = field(default_factory=FakeKeys)
    upstreams: dict[str, Any] = field(default_factory=dict)
    reloads_ok: int = 0
    reloads_failed: int = 0
    started: bool = True

    @property
    def state(self) -> Any:
        if not self.started:
            raise RuntimeError("the gateway has not started")
        loaded = SimpleNamespace(config=SimpleNamespace(observability=self.config))
        return SimpleNamespace(
            authenticator=SimpleNamespace(keys=self.keys),
            upstreams=self.upstreams,
            ready=True,
            loaded=loaded,
        )


def result(
    outcome: Outcome = Outcome.ALLOW,
    reasons: tuple[Reason, ...] = (Reason.ROUTE_OK, Reason.GROUPS_OK),
    route: str | None = "staff",
    principal: bool = True,
    token: str | None = TOKEN,
    detail: str | None = None,
    quota: tuple[QuotaTier, QuotaResult] | None = None,
    would_be: Decision | None = None,
) -> GateResult:
    request = AccessRequest("GET", "/staff/x", ip_address("192.0.2.7"), "api.example")
    facts = RequestFacts(request, "/staff/x", b"q=1", token, False, False, None)
    who = (
        Principal("alice", "https://idp", token_hash="ab" * 32, token_id="jti-1")
        if principal
        else None
    )
    decision = Decision(outcome, route, reasons, would_be=would_be)
    return GateResult(decision, facts, who, None, 1_700_000_000.0, detail, quota)
