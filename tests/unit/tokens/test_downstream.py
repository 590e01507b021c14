"""The gateway's identity JWT for upstreams: honest groups, bounded life, per-identity cache."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from glassgate.core.principal import Principal
from glassgate.tokens import downstream
from glassgate.tokens.downstream import IdentitySigner
from glassgate.tokens.signing import JwtSigner

NOW = 1_800_000_000.0
ALICE = Principal(
    subject="alice",
    issuer="https://idp.example",
    groups=frozenset({"Analysts"}),
    amr=frozenset({"pwd", "mfa"}),
    acr="urn:example:loa:2fa",
    token_hash="aa" * 32,
    expires_at=NOW + 3600,
)
ROUTE_GROUPS = frozenset({"Analysts", "Contractors"})


def _claims(signer: IdentitySigner, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(json.loads(signer.jwks()))
    return dict(jwt.decode(token, keys, algorithms=["ES256"]).claims)


def test_asserts_only_the_route_groups_the_principal_is_in() -> None:
    signer = IdentitySigner("glassgate")
    claims = _claims(signer, signer.token_for(ALICE, "app", ROUTE_GROUPS, NOW))
    assert claims["groups"] == ["Analysts"]
    assert claims["sub"] == "alice"
    assert claims["aud"] == "app"
    assert claims["src_iss"] == "https://idp.example"
    assert claims["exp"] == int(NOW + 60)


def test_never_outlives_the_callers_token() -> None:
    signer = IdentitySigner("glassgate")
    short = replace(ALICE, expires_at=NOW + 20)
    assert _claims(signer, signer.token_for(short, "app", ROUTE_GROUPS, NOW))["exp"] == int(
        NOW + 20
    )


def test_cached_per_identity_not_per_access_token() -> None:
    signer = IdentitySigner("glassgate")
    first = signer.token_for(ALICE, "app", ROUTE_GROUPS, NOW)
    refreshed = replace(ALICE, token_hash="bb" * 32)
    assert signer.token_for(refreshed, "app", ROUTE_GROUPS, NOW + 5) == first


def test_a_changed_identity_is_signed_again() -> None:
    signer = IdentitySigner("glassgate")
    first = signer.token_for(ALICE, "app", ROUTE_GROUPS, NOW)
    stronger = replace(ALICE, acr="urn:example:loa:breakglass")
    assert signer.token_for(stronger, "app", ROUTE_GROUPS, NOW) != first
    assert signer.token_for(ALICE, "other-app", ROUTE_GROUPS, NOW) != first
    contractor = replace(ALICE, groups=frozenset({"Analysts", "Contractors"}))
    claims = _claims(signer, signer.token_for(contractor, "app", ROUTE_GROUPS, NOW))
    assert claims["groups"] == ["Analysts", "Contractors"]


def test_a_cached_token_is_not_reused_past_the_new_tokens_expiry() -> None:
    signer = IdentitySigner("glassgate")
    signer.token_for(ALICE, "app", ROUTE_GROUPS, NOW)
    expiring = replace(ALICE, expires_at=NOW + 15)
    claims = _claims(signer, signer.token_for(expiring, "app", ROUTE_GROUPS, NOW))
    assert claims["exp"] == int(NOW + 15)


def test_jwks_has_no_private_member() -> None:
    signer = IdentitySigner("glassgate")
    assert b'"d"' not in signer.jwks()


def test_the_cache_is_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downstream, "_CACHE_SIZE", 2)
    signer = IdentitySigner("glassgate")
    first = signer.token_for(ALICE, "a", ROUTE_GROUPS, NOW)
    signer.token_for(ALICE, "b", ROUTE_GROUPS, NOW)
    signer.token_for(ALICE, "c", ROUTE_GROUPS, NOW)  # "a" goes
    assert signer.token_for(ALICE, "b", ROUTE_GROUPS, NOW + 1) is not None
    assert signer.token_for(ALICE, "a", ROUTE_GROUPS, NOW + 1) != first  # signed anew


def test_repr_never_shows_the_key() -> None:
    text = repr(JwtSigner.generate("ES256"))
    assert text.startswith("JwtSigner(alg='ES256', kid=")
    assert "key=<not shown>" in text
