"""demo.samples against demo.config: every printed expectation is what the gateway decides.

The tokens go through the real verifier and the requests through the real
inbound reader, gate, policy, quota store and outbound answers; only the HTTP
sockets and the JWKS fetch are left out (the integration test has those).
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Mapping
from typing import Any

import pytest

from glassgate.adapters.http.gate import Gate
from glassgate.adapters.http.inbound import Inbound, read_request
from glassgate.adapters.http.outbound import answer_for_decision
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import LoadedConfig, load_config_text
from glassgate.core.principal import Principal
from glassgate.demo.breakglass import write_sealed_credential
from glassgate.demo.config import (
    AUDIENCE,
    MAX_AUTH_AGE,
    QUOTA_BURST,
    QUOTA_INTERVAL,
    DemoAddresses,
    render_config,
)
from glassgate.demo.issuer import DevIssuer
from glassgate.demo.samples import Sample, build_samples, curl_command
from glassgate.tokens.issuers import IssuerPolicy
from glassgate.tokens.keyring import KeyRing, parse_jwks
from glassgate.tokens.verifier import TokenVerifier
from tests.support.clock import FrozenClock

NOW = 1_700_000_000.0
GATEWAY = "http://127.0.0.1:8080"


class _Verifying:
    """The authenticator port over the real verifier, with the issuer's JWKS preloaded."""

    def __init__(self, loaded: LoadedConfig, issuer: DevIssuer) -> None:
        config = loaded.config.issuers[0]
        self._verifier = TokenVerifier([IssuerPolicy.from_config(config)])
        keys, skipped = parse_jwks(issuer.jwks())
        assert keys
        assert not skipped
        self._rings: Mapping[str, KeyRing] = {config.id: KeyRing(config.id, keys, NOW)}

    async def authenticate(self, raw: str, now: float) -> Principal:
        return self._verifier.verify(raw, self._rings, now)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    clock = FrozenClock(NOW)
    issuer = DevIssuer("http://127.0.0.1:9400", AUDIENCE, clock=clock)
    addresses = DemoAddresses(
        listen="127.0.0.1:8080",
        issuer=issuer.issuer,
        jwks_uri=issuer.jwks_uri,
        upstream="http://127.0.0.1:9000",
        state_dir=str(tmp_path_factory.mktemp("demo state")),
    )
    write_sealed_credential(addresses.state_dir)  # as the runner does before loading
    loaded = load_config_text(render_config(addresses), "demo.yaml", {})
    return {"clock": clock, "issuer": issuer, "loaded": loaded}


def _gate(world: dict[str, Any]) -> Gate:
    loaded: LoadedConfig = world["loaded"]
    return Gate(
        loaded.compiled.policy,
        _Verifying(loaded, world["issuer"]),
        MemoryQuotaStore(),
        dict(loaded.compiled.quota_tiers),
        world["clock"],
    )


def _status(gate: Gate, sample: Sample, peer: str = "127.0.0.1") -> tuple[int, bytes | None]:
    inbound = Inbound(trusted_proxies=(), max_header_bytes=32768, max_token_bytes=16384)
    headers = [(b"host", b"127.0.0.1:8080")]
    if sample.token is not None:
        headers.append((b"authorization", f"Bearer {sample.token}".encode()))
    facts = read_request(inbound, sample.method, sample.path.encode(), b"", headers, peer)
    result = asyncio.run(gate.check(facts))
    if result.decision.allowed:
        return 200, None
    answer = answer_for_decision(result.decision, result.quota)
    return answer.status, dict(answer.headers).get(b"www-authenticate")


def _samples(world: dict[str, Any]) -> dict[str, Sample]:
    world["clock"].value = NOW
    return {sample.name: sample for sample in build_samples(world["issuer"])}


def test_the_samples_cover_allow_403_step_up_and_429(world: dict[str, Any]) -> None:
    statuses = {status for sample in _samples(world).values() for status in sample.expect}
    assert {200, 401, 403, 429} <= statuses
    names = list(_samples(world))
    assert names == [
        "allow",
        "no-token",
        "allow-group",
        "deny",
        "allow-mfa",
        "step-up",
        "rate-limit",
        "break-glass",
    ]


def test_every_sample_gets_the_status_it_promises(world: dict[str, Any]) -> None:
    gate = _gate(world)
    for sample in _samples(world).values():
        got = [_status(gate, sample)[0] for _ in sample.expect]
        assert got == list(sample.expect), sample.name


def test_step_up_carries_the_rfc_9470_challenge(world: dict[str, Any]) -> None:
    status, challenge = _status(_gate(world), _samples(world)["step-up"])
    assert status == 401
    assert challenge is not None
    assert b'error="insufficient_user_authentication"' in challenge


def test_the_fresh_mfa_token_needs_a_step_up_after_max_auth_age(world: dict[str, Any]) -> None:
    sample = _samples(world)["allow-mfa"]
    world["clock"].value = NOW + MAX_AUTH_AGE + 31  # past the limit and the 30 s leeway
    try:
        status, challenge = _status(_gate(world), sample)
    finally:
        world["clock"].value = NOW
    assert status == 401
    assert challenge is not None
    assert f'max_age="{MAX_AUTH_AGE}"'.encode() in challenge


def test_the_quota_refills_after_its_interval(world: dict[str, Any]) -> None:
    gate, sample = _gate(world), _samples(world)["rate-limit"]
    assert [_status(gate, sample)[0] for _ in range(QUOTA_BURST + 1)][-1] == 429
    world["clock"].value = NOW + QUOTA_INTERVAL
    try:
        assert _status(gate, sample)[0] == 200
    finally:
        world["clock"].value = NOW


def test_break_glass_only_from_this_machine(world: dict[str, Any]) -> None:
    sample = _samples(world)["break-glass"]
    assert _status(_gate(world), sample, peer="192.0.2.7")[0] == 403


def test_tokens_are_not_interchangeable_between_personas(world: dict[str, Any]) -> None:
    samples = _samples(world)
    swapped = Sample("x", "", "/api/admin/users", samples["deny"].token, (403,))
    assert _status(_gate(world), swapped)[0] == 403


def test_curl_for_one_request_round_trips_through_the_shell() -> None:
    sample = Sample("s", "t", "/api/public/hello", "aaa.bbb.ccc", (200,))
    assert shlex.split(curl_command(sample, GATEWAY)) == [
        "curl",
        "-i",
        "-w",
        "\\n",
        "-H",
        "Authorization: Bearer aaa.bbb.ccc",
        GATEWAY + "/api/public/hello",
    ]


def test_curl_without_a_token_and_with_a_method() -> None:
    sample = Sample("s", "t", "/x", None, (401,), method="POST")
    assert shlex.split(curl_command(sample, GATEWAY)) == [
        "curl",
        "-i",
        "-w",
        "\\n",
        "-X",
        "POST",
        GATEWAY + "/x",
    ]


def test_curl_for_several_requests_is_a_loop_showing_status_and_retry_after() -> None:
    sample = Sample("s", "t", "/api/limited/items", "a.b.c", (200, 200, 429, 429))
    command = curl_command(sample, GATEWAY)
    assert command.startswith("for i in 1 2 3 4; do curl -s -o /dev/null -D - ")
    assert "'Authorization: Bearer a.b.c'" in command
    assert command.endswith("| grep -iE '^(HTTP/|retry-after)'; done")


def test_as_dict_is_what_the_json_summary_carries() -> None:
    sample = Sample("s", "t", "/p", "a.b.c", (200,))
    assert sample.as_dict(GATEWAY) == {
        "name": "s",
        "title": "t",
        "method": "GET",
        "url": GATEWAY + "/p",
        "token": "a.b.c",
        "expect": [200],
        "curl": curl_command(sample, GATEWAY),
    }
