"""gate(): credential -> Principal -> policy -> quota. Shared by both front doors.

The proxy and the forward-auth endpoint call the same ``Gate.check``, so a
request gets the same answer whichever door it came through. Token failures
are opaque outward (``invalid_token``); the specific reason goes to the
decision record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from glassgate.adapters.http.inbound import RequestFacts
from glassgate.core.decision import Decision
from glassgate.core.engine import decide
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.quota import QuotaResult, QuotaTier, limit
from glassgate.core.reasons import Reason
from glassgate.errors import TokenError
from glassgate.ports import Authenticates, DecisionAudit, DecisionSink, QuotaStore
from glassgate.types import Clock

__all__ = ["Gate", "GateResult"]


@dataclass(frozen=True, slots=True)
class GateResult:
    decision: Decision
    facts: RequestFacts
    principal: Principal | None
    token_detail: str | None = None
    quota: tuple[QuotaTier, QuotaResult] | None = None


class Gate:
    """Decides requests against one compiled policy (rebuilt and swapped on reload)."""

    def __init__(
        self,
        policy: Policy,
        authenticator: Authenticates,
        quotas: QuotaStore,
        tiers: dict[str, QuotaTier],
        clock: Clock,
        sinks: tuple[DecisionSink, ...] = (),
        audit: DecisionAudit | None = None,
    ) -> None:
        self.policy = policy
        self._authenticator = authenticator
        self._quotas = quotas
        self._tiers = tiers
        self._clock = clock
        self._sinks = sinks
        self._audit = audit

    def now(self) -> float:
        return self._clock()

    def _quota_tier(self, decision: Decision, principal: Principal | None) -> str | None:
        """The tier a request counts against (SPEC C4).

        The route's tier, except for an API key that carries its own tier: the
        key's tier replaces the route's, on routes with or without one, so a
        machine client's plan follows it wherever its scope lets it go.
        Anonymous routes are never metered, whatever the caller presented.
        """
        own = principal.quota_tier if principal is not None else None
        if own is None or principal is None or principal.kind is not CredentialKind.API_KEY:
            return decision.quota_tier
        route = self.policy_route(decision.route_id)
        if route is None or route.anonymous or own not in self._tiers:
            return decision.quota_tier
        return own

    def policy_route(self, route_id: str | None) -> CompiledRoute | None:
        return self.policy.by_id.get(route_id) if route_id is not None else None

    async def check(self, facts: RequestFacts) -> GateResult:
        now = self._clock()
        principal: Principal | None = None
        detail: str | None = None
        reason = Reason.TOKEN_INVALID if facts.token_malformed else Reason.TOKEN_MISSING
        if facts.token_malformed:
            detail = "token-malformed"
        elif facts.token is not None:
            try:
                principal = await self._authenticator.authenticate(facts.token, now)
            except TokenError as exc:
                reason, detail = Reason.TOKEN_INVALID, exc.detail
        decision = decide(self.policy, facts.request, principal, now, credential_reason=reason)
        quota = None
        tier_name = self._quota_tier(decision, principal)
        if tier_name is not None and decision.allowed and principal is not None:
            tier = self._tiers[tier_name]
            if tier_name != decision.quota_tier:
                decision = replace(decision, quota_tier=tier_name)
            result = await self._quotas.hit(tier, _quota_key(tier, principal, facts), now)
            decision = limit(decision, result)
            quota = (tier, result)
        outcome = GateResult(decision, facts, principal, detail, quota)
        for sink in self._sinks:
            sink.record(outcome)
        if self._audit is not None:
            await self._audit.audit(outcome, now)  # may refuse: AuditUnavailableError
        return outcome


def _quota_key(tier: QuotaTier, principal: Principal, facts: RequestFacts) -> str:
    """The bucket: per client address, per API key (its public key id), or per principal.

    An ``api_key`` tier meets a caller without a key (a JWT) on a route: that
    caller is counted per principal, as on a ``principal`` tier.
    """
    if tier.key == "client_ip":
        return str(facts.request.client_ip)
    if tier.key == "api_key" and principal.kind is CredentialKind.API_KEY and principal.token_id:
        return f"api-key\x00{principal.token_id}"
    return f"{principal.issuer}\x00{principal.subject}"
