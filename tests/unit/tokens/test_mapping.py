"""Claims → Principal, verbatim."""

from __future__ import annotations

import json
from types import MappingProxyType

from glassgate.core.principal import CredentialKind
from glassgate.tokens.claims import parse_payload
from glassgate.tokens.mapping import to_principal
from tests.support import tokens as t


def test_every_field_is_mapped() -> None:
    claims = parse_payload(json.dumps({**t.base_claims(), "scp": ["admin"]}).encode())
    principal = to_principal(claims, t.policy(), "ab" * 32)
    assert principal.subject == "alice"
    assert principal.issuer == t.ISSUER
    assert principal.groups == {"Analysts"}
    assert principal.scopes == {"read", "write", "admin"}
    assert principal.amr == {"pwd", "mfa"}
    assert principal.acr == "urn:example:loa:2fa"
    assert principal.auth_time == t.NOW - 120
    assert principal.expires_at == t.NOW + 600
    assert principal.client_id == "gateway-client"
    assert principal.token_id == "tok-1"
    assert principal.token_hash == "ab" * 32
    assert principal.kind is CredentialKind.JWT
    assert isinstance(principal.claims, MappingProxyType)
    assert principal.claims["groups"] == ("Analysts",)


def test_okta_cid_becomes_the_client_id() -> None:
    data = {**t.base_claims(), "cid": "0oa1"}
    del data["client_id"]
    principal = to_principal(parse_payload(json.dumps(data).encode()), t.policy(), "")
    assert principal.client_id == "0oa1"


def test_look_alike_groups_stay_different() -> None:
    data = {**t.base_claims(), "groups": ["Ａdmins", "Admins ", "admins"]}
    principal = to_principal(parse_payload(json.dumps(data).encode()), t.policy(), "")
    assert "Admins" not in principal.groups
    assert principal.groups == {"Ａdmins", "Admins ", "admins"}


def test_opaque_kind_is_passed_through() -> None:
    claims = parse_payload(json.dumps(t.base_claims()).encode())
    assert to_principal(claims, t.policy(), "", CredentialKind.OPAQUE).kind is CredentialKind.OPAQUE
