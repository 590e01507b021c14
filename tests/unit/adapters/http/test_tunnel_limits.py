"""A tunnel's limits in process: which one ends it, and a revoked API key ending it.

The end-to-end cases (idle, lifetime, token expiry through a real gateway) are
in ``tests/integration/test_websocket_limits.py``; here the watch is driven
with tiny durations and the credential check with a real API-key store.
"""

from __future__ import annotations

import time

import pytest
import uvloop

from glassgate.adapters.http import websocket
from glassgate.adapters.http.gate import Gate
from glassgate.adapters.http.websocket import Tunnel, TunnelReport, _watch
from glassgate.adapters.idp.api_keys import ApiKeyAuthenticator, ApiKeyCache
from glassgate.adapters.storage.api_keys.memory import MemoryApiKeyStore
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import load_config_text
from glassgate.tokens.api_keys import issue_api_key

CONFIG = """
issuers:
  - {id: idp, issuer: https://idp.example, audiences: [api], jwks_uri: https://idp.example/jwks}
upstreams: [{id: app, targets: ["http://127.0.0.1:9"]}]
routes:
  - {id: ws, match: {path: /ws/*}, upstream: app, allow: {groups: [robots]}}
"""


def _report() -> TunnelReport:
    started = time.monotonic()
    return TunnelReport("t", started, last_message=started)


async def _valid() -> bool:
    return True


async def _revoked() -> bool:
    return False


def test_an_idle_tunnel_ends_first_when_nothing_passes() -> None:
    limits = Tunnel(idle_timeout=0.05, max_lifetime=30.0)
    assert uvloop.run(_watch(limits, _report())) == (1001, "idle-timeout")


def test_the_lifetime_ends_a_tunnel_that_never_idles() -> None:
    limits = Tunnel(idle_timeout=30.0, max_lifetime=0.05, still_valid=_valid)
    assert uvloop.run(_watch(limits, _report())) == (1001, "max-lifetime")


def test_a_credential_ending_before_the_lifetime_closes_with_1008() -> None:
    limits = Tunnel(idle_timeout=30.0, max_lifetime=30.0, expires_at=time.time() + 0.05)
    assert uvloop.run(_watch(limits, _report())) == (1008, "credential-expired")


def test_a_credential_that_stops_authenticating_closes_with_1008(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(websocket, "RECHECK_SECONDS", 0.01)
    limits = Tunnel(idle_timeout=30.0, max_lifetime=30.0, still_valid=_revoked)
    assert uvloop.run(_watch(limits, _report())) == (1008, "credential-revoked")


def test_a_revoked_api_key_stops_authenticating_after_the_cache_ttl() -> None:
    compiled = load_config_text(CONFIG, "gate.yaml", {}).compiled
    store = MemoryApiKeyStore()
    keys = ApiKeyAuthenticator(lambda: store, tiers=frozenset(), cache=ApiKeyCache(5.0, 1.0))
    now = [1_790_000_000.0]
    gate = Gate(compiled.policy, keys, MemoryQuotaStore(), {}, lambda: now[0])
    issued = issue_api_key(
        name="bot", subject="svc:ci", now=now[0] - 10, groups=("robots",), routes=None
    )
    store.add(issued.record)
    key = issued.key.reveal()

    async def scenario() -> list[bool]:
        await keys.start()
        try:
            seen = [await gate.still_authenticates(key)]
            store.revoke(issued.record.key_id, now[0])
            seen.append(await gate.still_authenticates(key))  # cached for cache_ttl
            now[0] += 6.0
            seen.append(await gate.still_authenticates(key))
            seen.append(await gate.still_authenticates("gg_not_a_key"))
            return seen
        finally:
            await keys.aclose()

    assert uvloop.run(scenario()) == [True, True, False, False]
