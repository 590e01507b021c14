"""Provider metadata: OIDC first, Okta's OAuth AS metadata next, exact issuer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from glassgate.adapters.idp.discovery import ProviderMetadata, discover, discovery_urls
from glassgate.errors import IdPUnavailableError
from tests.support.fake_idp import FakeIdP

ISSUER = "https://idp.example.test/oauth2/default"


def run(idp: FakeIdP, **kwargs: object) -> ProviderMetadata:
    async def go() -> ProviderMetadata:
        async with idp.client() as http:
            return await discover(http, idp.issuer, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_urls_in_order() -> None:
    assert discovery_urls(ISSUER) == (
        ISSUER + "/.well-known/openid-configuration",
        ISSUER + "/.well-known/oauth-authorization-server",
        "https://idp.example.test/.well-known/oauth-authorization-server/oauth2/default",
    )
    assert discovery_urls("https://idp.example/") == (
        "https://idp.example/.well-known/openid-configuration",
        "https://idp.example/.well-known/oauth-authorization-server",
    )
    assert discovery_urls(ISSUER, "https://meta.example/x") == ("https://meta.example/x",)


def test_openid_configuration() -> None:
    idp = FakeIdP()
    assert run(idp) == ProviderMetadata(ISSUER, idp.jwks_uri, idp.introspection_endpoint)


def test_falls_back_to_oauth_authorization_server() -> None:
    idp = FakeIdP()
    oidc = "/oauth2/default/.well-known/openid-configuration"
    idp.overrides[oidc] = lambda r: httpx.Response(404)
    idp.overrides["/oauth2/default/.well-known/oauth-authorization-server"] = lambda r: (
        httpx.Response(200, json=idp.metadata())
    )
    assert run(idp).jwks_uri == idp.jwks_uri
    assert idp.hits[oidc] == 1


def test_falls_back_to_the_rfc8414_inserted_form() -> None:
    idp = FakeIdP()
    idp.overrides["/oauth2/default/.well-known/openid-configuration"] = lambda r: httpx.Response(
        404
    )
    idp.overrides["/.well-known/oauth-authorization-server/oauth2/default"] = lambda r: (
        httpx.Response(200, json=idp.metadata())
    )
    assert run(idp).jwks_uri == idp.jwks_uri


def test_nothing_found() -> None:
    idp = FakeIdP()
    idp.overrides["/oauth2/default/.well-known/openid-configuration"] = lambda r: httpx.Response(
        500
    )
    with pytest.raises(IdPUnavailableError, match="HTTP 500"):
        run(idp)


@pytest.mark.parametrize(
    "issuer",
    [ISSUER + "/", "https://IDP.example.test/oauth2/default", "https://evil.example", None, 7],
)
def test_the_issuer_must_match_exactly(issuer: object) -> None:
    idp = FakeIdP()
    idp.metadata_extra = {"issuer": issuer}
    with pytest.raises(IdPUnavailableError, match="exact match"):
        run(idp)


@pytest.mark.parametrize("jwks_uri", [None, "", "file:///etc/passwd", 3])
def test_a_usable_jwks_uri_is_required(jwks_uri: object) -> None:
    idp = FakeIdP()
    idp.metadata_extra = {"jwks_uri": jwks_uri}
    with pytest.raises(IdPUnavailableError, match="jwks_uri"):
        run(idp)


def test_introspection_endpoint_is_optional() -> None:
    idp = FakeIdP()
    idp.metadata_extra = {"introspection_endpoint": 5}
    assert run(idp).introspection_endpoint is None


def test_discovery_url_is_used_alone() -> None:
    idp = FakeIdP()
    idp.overrides["/custom"] = lambda r: httpx.Response(200, json=idp.metadata())
    assert run(idp, discovery_url="https://idp.example.test/custom").jwks_uri == idp.jwks_uri
    assert sum(idp.hits.values()) == 1


def test_size_cap() -> None:
    idp = FakeIdP()
    idp.metadata_extra = {"padding": "x" * 5000}
    with pytest.raises(IdPUnavailableError, match="larger"):
        run(idp, max_bytes=1024)


def test_idp_down() -> None:
    idp = FakeIdP()
    idp.down = True
    with pytest.raises(IdPUnavailableError, match="ConnectError"):
        run(idp)


@pytest.mark.parametrize(
    ("field", "url", "warned"),
    [
        ("jwks_uri", "http://keys.example.com/jwks", True),
        ("introspection_endpoint", "http://10.0.0.5/introspect", True),
        ("jwks_uri", "http://127.0.0.1:9400/jwks", False),
        ("jwks_uri", "https://keys.example.com/jwks", False),
    ],
)
def test_discovered_plain_http_urls_are_warned_about(
    caplog: pytest.LogCaptureFixture, field: str, url: str, warned: bool
) -> None:
    # issue 11 K: the config check cannot see URLs that only discovery names.
    idp = FakeIdP()
    idp.metadata_extra = {field: url}
    with caplog.at_level("WARNING", logger="glassgate"):
        assert getattr(run(idp), field) == url
    assert any(
        "plain HTTP" in r.getMessage() and url in r.getMessage() for r in caplog.records
    ) == (warned)
