"""IssuerPolicy and ClaimPath are checked once, at load."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from glassgate.config.schema import ClaimsConfig, IssuerConfig
from glassgate.tokens.issuers import MISSING, ClaimPath, IssuerPolicy
from tests.support import tokens as t


def test_from_config_compiles_every_field() -> None:
    config = IssuerConfig(
        id="kc",
        issuer="https://kc.example/realms/main",
        audiences=("api://a", "api://b"),
        algorithms=("PS256", "EdDSA"),
        token_type="at+jwt",
        leeway=5,
        claims=ClaimsConfig(groups="realm_access.roles", scopes="scp", scope_string="scope"),
    )
    policy = IssuerPolicy.from_config(config)
    assert policy.id == "kc"
    assert policy.audiences == frozenset({"api://a", "api://b"})
    assert policy.algorithms == frozenset({"PS256", "EdDSA"})
    assert policy.require_at_jwt is True
    assert policy.leeway == 5.0
    assert policy.groups == ClaimPath("realm_access.roles", ("realm_access", "roles"))


def test_from_config_defaults() -> None:
    policy = IssuerPolicy.from_config(
        IssuerConfig(id="okta", issuer="https://o.example/oauth2/default", audiences=("api://x",))
    )
    assert policy.require_at_jwt is False
    assert policy.algorithms == frozenset({"RS256", "ES256"})
    assert policy.groups.name == "groups"


@pytest.mark.parametrize(
    "overrides",
    [
        {"algorithms": frozenset({"HS256"})},
        {"algorithms": frozenset({"none"})},
        {"algorithms": frozenset({"RS256", "none"})},
        {"algorithms": frozenset()},
        {"audiences": frozenset()},
        {"audiences": frozenset({""})},
        {"issuer": ""},
        {"leeway": 61.0},
        {"leeway": -1.0},
    ],
    ids=lambda o: f"case={o}",
)
def test_unsafe_policies_cannot_be_built(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="issuer"):
        t.policy(**overrides)


@pytest.mark.parametrize("name", ["", ".", "a.", ".a", "a..b"])
def test_claim_paths_must_name_something(name: str) -> None:
    with pytest.raises(ValueError, match="claim path"):
        ClaimPath.parse(name)


def test_claim_path_walks_objects() -> None:
    path = ClaimPath.parse("realm_access.roles")
    claims = MappingProxyType({"realm_access": MappingProxyType({"roles": ("a",)})})
    assert path.find(claims) == ("a",)
    assert path.find(MappingProxyType({})) is MISSING
    assert path.find(MappingProxyType({"realm_access": MappingProxyType({})})) is MISSING


def test_claim_path_prefers_a_literal_dotted_name() -> None:
    path = ClaimPath.parse("https://example.com/groups")
    assert path.find({"https://example.com/groups": ("x",)}) == ("x",)


def test_claim_path_through_a_non_object_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        ClaimPath.parse("realm_access.roles").find({"realm_access": "admins"})
