"""Sign-in throttling for the console: one bucket per client address, one per account.

Both are GCRA buckets (``core.quota.gcra``) in the gateway's ``QuotaStore``,
so several instances behind a load balancer share the count when the store is
Redis. An attempt is counted *before* any password is hashed: a throttled
caller costs no argon2 time.

- ``address``: every sign-in step and every one-time-link attempt, keyed by the
  client address (IPv6 by its /64, which one host usually owns whole).
- ``account``: every sign-in finish from an address the name may sign in from.
  Attempts from elsewhere can never succeed, so they count against the address
  only: otherwise anyone on the internet could drain the real holder's bucket
  and lock them out at 2 a.m.

The refusal (``SignInThrottledError``, 429) reads the same for every name:
a bucket exists for any string, known or not, so it discloses no account.
See docs/decisions/console-security.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network

from glassgate.config.schema import SignInLimitsConfig
from glassgate.core.quota import QuotaTier
from glassgate.core.request import IPAddress
from glassgate.errors import SignInThrottledError
from glassgate.ports import QuotaStore
from glassgate.types import Clock

__all__ = ["SignInLimits", "SignInThrottle", "address_key"]


@dataclass(frozen=True, slots=True)
class SignInLimits:
    per_address: QuotaTier
    per_account: QuotaTier

    @classmethod
    def from_config(cls, config: SignInLimitsConfig) -> SignInLimits:
        def tier(name: str, attempts: int) -> QuotaTier:
            return QuotaTier(name, rate=attempts, per=config.window, burst=attempts)

        return cls(
            tier("console-sign-in-address", config.per_address),
            tier("console-sign-in-account", config.per_account),
        )


def address_key(client: IPAddress) -> str:
    """The bucket key for a client: the address, or its /64 for IPv6."""
    if isinstance(client, IPv6Address):
        if client.ipv4_mapped is not None:
            return str(client.ipv4_mapped)
        return str(IPv6Network((client, 64), strict=False))
    return str(client)


class SignInThrottle:
    def __init__(self, store: QuotaStore, limits: SignInLimits, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    async def _hit(self, tier: QuotaTier, key: str) -> None:
        result = await self._store.hit(tier, key, self._clock())
        if not result.allowed:
            raise SignInThrottledError(result.retry_after)

    async def address(self, client: IPAddress) -> None:
        """Count one attempt from ``client``; ``SignInThrottledError`` when it has too many."""
        await self._hit(self._limits.per_address, address_key(client))

    async def account(self, name: str) -> None:
        """Count one attempt at ``name`` (normalised by the caller, as sign-in does)."""
        await self._hit(self._limits.per_account, name)
