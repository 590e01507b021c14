"""demo.issuer: throwaway RS256 key, RFC 9068 tokens, discovery and JWKS, all marked."""

from __future__ import annotations

import json
import logging

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey

from glassgate.demo._http import Request, Response
from glassgate.demo.issuer import DEV_ONLY_NOTICE, ISSUER_PATH, DevIssuer

NOW = 1_700_000_000.0
BASE = "http://127.0.0.1:4321"
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


@pytest.fixture(scope="module")
def issuer() -> DevIssuer:
    return DevIssuer(BASE, "api://demo", ttl=600, clock=lambda: NOW)


def _keys(issuer: DevIssuer) -> KeySet:
    return KeySet.import_key_set(issuer.jwks())  # type: ignore[arg-type]


def _get(issuer: DevIssuer, path: str, method: str = "GET") -> Response:
    return issuer.handle(Request(method, path, (), b""))


def _private_d(issuer: DevIssuer) -> str:
    return str(issuer._signer._key.as_dict(private=True)["d"])


def test_issuer_identifier_says_development_only(issuer: DevIssuer) -> None:
    assert issuer.issuer == BASE + ISSUER_PATH == "http://127.0.0.1:4321/development-only"
    assert issuer.jwks_uri == issuer.issuer + "/jwks.json"
    assert issuer.discovery_uri == issuer.issuer + "/.well-known/openid-configuration"


def test_token_is_an_rs256_at_jwt_with_the_chosen_claims(issuer: DevIssuer) -> None:
    raw = issuer.mint(
        "carol", groups=["Admins"], amr=["pwd", "mfa"], acr="urn:x", auth_time=NOW - 30
    )
    token = jwt.decode(raw, _keys(issuer), algorithms=["RS256"])
    assert token.header == {"alg": "RS256", "typ": "at+jwt", "kid": issuer.kid}
    claims = token.claims
    assert claims["iss"] == issuer.issuer
    assert claims["aud"] == "api://demo"
    assert claims["sub"] == "carol"
    assert claims["client_id"] == "glassgate-demo"
    assert (claims["iat"], claims["exp"]) == (int(NOW), int(NOW) + 600)
    assert claims["groups"] == ["Admins"]
    assert claims["amr"] == ["pwd", "mfa"]
    assert claims["acr"] == "urn:x"
    assert claims["auth_time"] == int(NOW) - 30
    assert claims["development_only"] == DEV_ONLY_NOTICE
    assert len(claims["jti"]) == 32


def test_defaults_password_sign_in_now_and_no_acr(issuer: DevIssuer) -> None:
    claims = jwt.decode(issuer.mint("alice"), _keys(issuer)).claims
    assert claims["amr"] == ["pwd"]
    assert claims["groups"] == []
    assert claims["auth_time"] == int(NOW)
    assert "acr" not in claims


def test_every_token_has_its_own_jti(issuer: DevIssuer) -> None:
    keys = _keys(issuer)
    ids = {jwt.decode(issuer.mint("a"), keys).claims["jti"] for _ in range(5)}
    assert len(ids) == 5


def test_each_issuer_generates_its_own_key() -> None:
    first, second = DevIssuer(BASE, "a"), DevIssuer(BASE, "a")
    assert first.kid != second.kid
    with pytest.raises(BadSignatureError):
        jwt.decode(first.mint("x"), RSAKey.import_key(second.jwks()["keys"][0]))


def test_jwks_publishes_the_public_key_only(issuer: DevIssuer) -> None:
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "RSA"
    assert (key["kid"], key["use"], key["alg"]) == (issuer.kid, "sig", "RS256")
    assert not set(PRIVATE_MEMBERS) & set(key)


def test_repr_never_shows_the_key(issuer: DevIssuer) -> None:
    text = repr(issuer) + str(issuer)
    assert issuer.kid in text
    assert _private_d(issuer) not in text
    assert "not shown" in text


def test_generation_is_logged_loudly_and_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="glassgate.demo.issuer"):
        issuer = DevIssuer(BASE, "a")
        _get(issuer, "/development-only/jwks.json")
    assert caplog.records
    for record in caplog.records:
        message = record.getMessage()
        assert message.startswith("[DEVELOPMENT ONLY issuer]")
        assert _private_d(issuer) not in message
    assert caplog.records[0].levelno == logging.WARNING
    assert "never use this issuer in production" in caplog.records[0].getMessage()


def test_serves_discovery(issuer: DevIssuer) -> None:
    response = _get(issuer, "/development-only/.well-known/openid-configuration")
    assert response.status == 200
    document = json.loads(response.body)
    assert document["issuer"] == issuer.issuer
    assert document["jwks_uri"] == issuer.jwks_uri
    assert document["development_only"] == DEV_ONLY_NOTICE
    assert ("x-development-only", "true") in response.headers


def test_serves_the_jwks_and_ignores_the_query(issuer: DevIssuer) -> None:
    response = _get(issuer, "/development-only/jwks.json?x=1")
    assert response.status == 200
    assert json.loads(response.body) == issuer.jwks()
    assert _private_d(issuer) not in response.body.decode()


@pytest.mark.parametrize(
    "path", ["/", "/jwks.json", "/.well-known/openid-configuration", "/development-only"]
)
def test_anything_else_is_404_with_the_notice(issuer: DevIssuer, path: str) -> None:
    response = _get(issuer, path)
    assert response.status == 404
    assert json.loads(response.body)["development_only"] == DEV_ONLY_NOTICE


def test_only_get_and_head(issuer: DevIssuer) -> None:
    assert _get(issuer, "/development-only/jwks.json", "POST").status == 405
    assert _get(issuer, "/development-only/jwks.json", "HEAD").status == 200


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        DevIssuer(BASE, "a", ttl=0)
