"""gate(): credential -> Principal -> policy -> quota. Shared by both front doors.

The proxy and the forward-auth endpoint call the same ``Gate.check``, so a
request gets the same answer whichever door it came through. The result is
whole: the decision, the route it was made on and the time it was made at, so
a door never looks the route up again or reads the clock again. Token failures
are opaque outward (``invalid_token``); the specific reason goes to the
decision record.

A principal from the credential path (IdP tokens, API keys) then passes
through the ``PrincipalEnricher``s in order: the one seam where glassgate adds
what it knows beyond the token (the directory's groups today, just-in-time
grants next); each enricher picks the principals it applies to. Break-glass
principals skip it: their scope is the locked policy's alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from glassgate.adapters.http.inbound import RequestFacts
from glassgate.core.decision import Decision
from glassgate.core.engine import decide_route
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.principal import Principal
from glassgate.core.quota import QuotaResult, QuotaTier, bucket_key, limit, store_down, tier_for
from glassgate.core.reasons import Reason
from glassgate.errors import CredentialUnavailableError, StorageUnavailableError, TokenError
from glassgate.ports import (
    Authenticates,
    DecisionAudit,
    DecisionSink,
    PrincipalEnricher,
    QuotaStore,
    SessionAuthenticator,
)
from glassgate.types import Clock
from glassgate.workflows.sessions import is_session_token

__all__ = ["Gate", "GateResult"]

_log = logging.getLogger("glassgate.quota")


@dataclass(frozen=True, slots=True)
class GateResult:
    """One request's outcome, whole: what the doors, the sinks and the audit need.

    ``route`` is the compiled route the decision was made on (None when none
    matched); ``decided_at`` is the one clock reading of the request (the
    upstream identity token is issued at it).
    """

    decision: Decision
    facts: RequestFacts
    principal: Principal | None
    route: CompiledRoute | None
    decided_at: float
    token_detail: str | None = None
    quota: tuple[QuotaTier, QuotaResult] | None = None


class _StoreHealth:
    """Logs when the quota store stops answering and when it is back, once each way.

    The refusals and pass-throughs themselves are counted per request, in the
    decision metrics (reason ``quota-store-unavailable``) and the audit log.
    """

    def __init__(self) -> None:
        self.down = False

    def failed(self) -> None:
        if not self.down:
            self.down = True
            _log.error(
                "the quota store cannot be asked: metered requests get their tier's "
                "when_store_down (closed: 503, open: allowed unmetered)"
            )

    def answered(self) -> None:
        if self.down:
            self.down = False
            _log.warning("the quota store answers again")


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
        breakglass: SessionAuthenticator | None = None,
        enrichers: tuple[PrincipalEnricher, ...] = (),
    ) -> None:
        self.policy = policy
        self._authenticator = authenticator
        self._quotas = quotas
        self._tiers = tiers
        self._clock = clock
        self._sinks = sinks
        self._audit = audit
        self._breakglass = breakglass  # None: no breakglass section, ggbg_ tokens go nowhere
        self._enrichers = enrichers  # the one seam after authentication (merged groups, grants)
        self._store_health = _StoreHealth()

    async def check(self, facts: RequestFacts) -> GateResult:
        """Decide ``facts``; ``CredentialUnavailableError`` when a credential that matters
        cannot be checked now (the door answers 503, never 401)."""
        now = self._clock()
        try:
            principal, reason, detail = await self._authenticate(facts, now)
        except CredentialUnavailableError as exc:
            # Only an anonymous route can do without the credential: there the request goes
            # on without an identity; everywhere else the answer must wait for the check.
            principal, reason, detail = None, Reason.TOKEN_INVALID, exc.detail
            if not self._anonymous(facts):
                raise
        route, decision = decide_route(
            self.policy, facts.request, principal, now, credential_reason=reason
        )
        quota = None
        tier_name = tier_for(decision, route, principal, self._tiers)
        if tier_name is not None and decision.allowed and principal is not None:
            tier = self._tiers[tier_name]
            if tier_name != decision.quota_tier:  # an API key's own tier (no replace(): hot path)
                decision = Decision(
                    decision.outcome,
                    decision.route_id,
                    decision.reasons,
                    decision.challenge,
                    decision.retry_after,
                    tier_name,
                    decision.would_be,
                )
            key = bucket_key(tier, principal, facts.request.client_ip)
            try:
                result = await self._quotas.hit(tier, key, now)
            except StorageUnavailableError:
                decision = store_down(decision, tier)  # the tier's when_store_down
                self._store_health.failed()
            else:
                decision = limit(decision, result)
                quota = (tier, result)
                self._store_health.answered()
        outcome = GateResult(decision, facts, principal, route, now, detail, quota)
        for sink in self._sinks:
            sink.record(outcome)
        if self._audit is not None:
            await self._audit.audit(outcome, now)  # may refuse: AuditUnavailableError
        return outcome

    async def still_authenticates(self, token: str) -> bool:
        """Whether ``token`` still authenticates: an open WebSocket tunnel asks, now and then.

        No decision, quota or audit (the upgrade's decision was made and
        recorded): only whether the credential holds (an API key revoked, a
        token expired). One that cannot be checked now does not hold (fail closed).
        """
        try:
            await self._authenticator.authenticate(token, self._clock())
        except (TokenError, CredentialUnavailableError):
            return False
        return True

    def _anonymous(self, facts: RequestFacts) -> bool:
        request = facts.request
        _, route = self.policy.routes.lookup(request.method, request.host, request.path)
        return route is not None and route.anonymous

    async def _authenticate(
        self, facts: RequestFacts, now: float
    ) -> tuple[Principal | None, Reason, str | None]:
        """(principal, the credential reason when there is none, the audit detail)."""
        if facts.token_malformed:
            return None, Reason.TOKEN_INVALID, "token-malformed"
        if facts.token is None:
            return None, Reason.TOKEN_MISSING, None
        try:
            if self._breakglass is not None and is_session_token(facts.token):
                # a break-glass principal carries the locked policy's scope, nothing more
                principal = await self._breakglass.authenticate(
                    facts.token, facts.request.client_ip
                )
            else:
                principal = await self._authenticator.authenticate(facts.token, now)
                for enricher in self._enrichers:
                    principal = enricher.enrich(principal, now)
            return principal, Reason.TOKEN_MISSING, None
        except TokenError as exc:
            return None, Reason.TOKEN_INVALID, exc.detail
