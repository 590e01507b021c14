"""examples/reference.yaml served by a real gateway process, with real IdP tokens.

Each case follows shared/examples/REFERENCE-POLICY.md; the recording upstream
shows what was forwarded, and that denied or smuggled requests never arrived.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import ROOT, GatewayProcess
from tests.support.raw_http import send_raw, status_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("gw") / "gateway.log"
    env = {
        "GLASSGATE_ISSUER": oidc_provider.issuer,
        "GLASSGATE_AUDIENCE": "api://gateway",
        "GLASSGATE_UPSTREAM": upstream.url,
    }
    process = GatewayProcess(ROOT / "examples" / "reference.yaml", env, log)
    process.start()
    yield process
    process.stop()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture
def seen(upstream: EchoUpstream) -> EchoUpstream:
    upstream.clear()
    return upstream


def _get(gw: GatewayProcess, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(kw.pop("method", "GET"), gw.url + path, headers=headers, **kw)


def test_public_allows_any_valid_token(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "alice", "groups": []})
    response = _get(gateway, "/public/items?x=1", token)
    assert response.status_code == 200
    assert response.json()["target"] == "/public/items?x=1"
    assert seen.requests[0].header("x-glassgate-subject") == "alice"


@pytest.mark.parametrize("auth", [None, "Basic Zm9vOmJhcg==", "Bearer", "Bearer not-a-jwt"])
def test_missing_or_bad_credentials_get_401_bearer(
    gateway: GatewayProcess, seen: EchoUpstream, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    response = _get(gateway, "/public/x", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert seen.requests == []


def test_lowercase_scheme_and_es256(gateway: GatewayProcess, oidc_provider: Any) -> None:
    token = oidc_provider.token(claims={"sub": "e"}, client="gateway-es256")
    response = _get(gateway, "/public/x", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_two_authorization_headers_are_rejected(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "alice"})
    raw = send_raw(
        gateway.port,
        (
            f"GET /public/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ).encode(),
    )
    assert status_of(raw) in (400, 401)
    assert seen.requests == []


def test_token_in_query_is_not_a_credential(gateway: GatewayProcess, oidc_provider: Any) -> None:
    token = oidc_provider.token(claims={"sub": "alice"})
    assert _get(gateway, f"/public/x?access_token={token}").status_code == 401


@pytest.mark.parametrize(
    ("groups", "status"),
    [
        (["Analysts"], 200),
        (["Analysts", "Contractors"], 403),
        (["Contractors"], 403),
        ([], 403),
        (["analysts"], 403),
        (["Analysts "], 403),
        (["Ａnalysts"], 403),
    ],
)
def test_reports_groups(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream, groups: list[str], status: int
) -> None:
    token = oidc_provider.token(claims={"sub": "r", "groups": groups})
    assert _get(gateway, "/reports/q3", token).status_code == status
    assert len(seen.requests) == (1 if status == 200 else 0)


def _admin_claims(**extra: Any) -> dict[str, Any]:
    """``auth_time`` is an offset from the moment the token is minted (``_at_call``): a
    time taken at collection goes stale when a long suite reaches this test late."""
    return {
        "sub": "admin",
        "groups": ["Admins"],
        "amr": ["pwd", "mfa"],
        "auth_time": -10,
        **extra,
    }


def _at_call(claims: dict[str, Any]) -> dict[str, Any]:
    return {**claims, "auth_time": int(time.time()) + claims["auth_time"]}


@pytest.mark.parametrize(
    ("claims", "status", "step_up"),
    [
        (_admin_claims(), 200, False),
        (_admin_claims(groups=["Analysts"]), 403, False),
        (_admin_claims(amr=["pwd"]), 401, True),
        (_admin_claims(auth_time=-400), 401, True),
        (_admin_claims(auth_time=600), 401, True),
        (_admin_claims(amr=["pwd", "MFA"]), 401, True),
    ],
    ids=["ok", "not-admin", "no-mfa", "stale-auth", "future-auth", "mfa-case"],
)
def test_admin_step_up(
    gateway: GatewayProcess,
    oidc_provider: Any,
    seen: EchoUpstream,
    claims: dict[str, Any],
    status: int,
    step_up: bool,
) -> None:
    response = _get(gateway, "/admin/users", oidc_provider.token(claims=_at_call(claims)))
    assert response.status_code == status
    if step_up:
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        assert 'error="insufficient_user_authentication"' in challenge
        assert 'max_age="300"' in challenge
    assert len(seen.requests) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("claims", "source", "status"),
    [
        ({"groups": ["BreakGlass"], "acr": "urn:example:loa:breakglass"}, "127.0.0.1", 200),
        ({"groups": ["BreakGlass"], "acr": "urn:example:loa:breakglass"}, "127.0.0.2", 403),
        ({"groups": ["Admins"], "acr": "urn:example:loa:breakglass"}, "127.0.0.1", 403),
        ({"groups": ["BreakGlass"], "acr": "urn:example:loa:2fa"}, "127.0.0.1", 401),
    ],
    ids=["ok", "wrong-ip", "not-breakglass", "wrong-acr"],
)
def test_breakglass_route(
    gateway: GatewayProcess, oidc_provider: Any, claims: dict[str, Any], source: str, status: int
) -> None:
    token = oidc_provider.token(claims={"sub": "bg", **claims})
    raw = send_raw(
        gateway.port,
        (
            f"GET /breakglass/idp HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\n"
            f"X-Forwarded-For: 127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\nConnection: close\r\n\r\n"
        ).encode(),
        source=source,
    )
    assert status_of(raw) == status


@pytest.mark.parametrize(
    "path",
    [
        "/public/%2e%2e/admin/users",
        "/public/..%2Fadmin/users",
        "/public/%2F..%2Fadmin",
        "/public/..%5Cadmin",
        "/public/%252e%252e/admin",
        "/public/%00/../admin",
        "/public/..;/admin/users",
        "/public/%c0%ae%c0%ae/admin",
        "/public/../../admin",
        "//public/../admin/users",
        "/ADMIN/users",
        "/publicity",
        "/public-admin/x",
        "/public/%2e%2e%2fadmin",
    ],
)
def test_paths_never_reach_admin_as_public(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream, path: str
) -> None:
    token = oidc_provider.token(claims={"sub": "p", "groups": []})
    raw = send_raw(
        gateway.port,
        f"GET {path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status_of(raw) in (400, 403, 404), raw[:200]
    assert all(not r.target.startswith("/admin") for r in seen.requests)


def test_dot_segments_are_normalised_and_forwarded_canonically(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "p"})
    raw = send_raw(
        gateway.port,
        f"GET /public/a/./b//c/../d HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status_of(raw) == 200
    assert seen.requests[0].target == "/public/a/b/d"


def test_identity_and_override_headers_are_stripped(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "alice", "groups": []})
    spoofed = {
        "X-Forwarded-User": "root",
        "x-auth-request-user": "root",
        "Remote-User": "root",
        "X-Remote-Groups": "Admins",
        "X-User-Id": "0",
        "X-Glassgate-Subject": "root",
        "X-HTTP-Method-Override": "DELETE",
        "X-Real-IP": "10.0.0.1",
        "True-Client-IP": "10.0.0.1",
    }
    raw_headers = "".join(f"{k}: {v}\r\n" for k, v in spoofed.items())
    raw = send_raw(
        gateway.port,
        (
            f"GET /public/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\n"
            f"{raw_headers}X_Forwarded_User: root\r\nConnection: close\r\n\r\n"
        ).encode(),
    )
    assert status_of(raw) == 200
    request = seen.requests[0]
    names = {name.lower() for name, _ in request.headers}
    for header in spoofed:
        if header.lower() != "x-glassgate-subject":
            assert header.lower() not in names
    assert "x_forwarded_user" not in names
    assert request.header("x-glassgate-subject") == "alice"
    assert request.method == "GET"


def test_options_without_token_is_not_forwarded(
    gateway: GatewayProcess, seen: EchoUpstream
) -> None:
    response = _get(
        gateway,
        "/public/x",
        method="OPTIONS",
        headers={"Origin": "https://e", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 401
    assert seen.requests == []


@pytest.mark.parametrize("method", ["POST", "DELETE", "PROPFIND", "HEAD"])
def test_every_method_is_gated(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream, method: str
) -> None:
    token = oidc_provider.token(claims={"sub": "x", "groups": ["Analysts", "Contractors"]})
    assert _get(gateway, "/reports/x", token, method=method).status_code == 403
    assert seen.requests == []


def test_post_body_is_streamed(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "x"})
    body = b"a" * 300_000
    response = _get(gateway, "/public/upload", token, method="POST", content=body)
    assert response.status_code == 200
    assert seen.requests[0].body == body


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
    ],
    ids=["cl-te", "unknown-coding", "double-te"],
)
def test_smuggling_never_reaches_upstream(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream, framing: bytes
) -> None:
    token = oidc_provider.token(claims={"sub": "x"}).encode()
    smuggled = b"GET /admin/users HTTP/1.1\r\nHost: a\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled
    raw = send_raw(
        gateway.port,
        b"POST /public/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
        + token
        + b"\r\n"
        + framing
        + b"\r\n"
        + body,
    )
    assert status_of(raw) in (400, 411, 501)
    assert b"/admin" not in bytes(seen.raw)


def test_chunked_body_is_reframed(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "x"}).encode()
    raw = send_raw(
        gateway.port,
        b"POST /public/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
        + token
        + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /admin/users HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    assert status_of(raw) == 200
    assert seen.requests[0].body == b"hello"
    assert all(not r.target.startswith("/admin") for r in seen.requests)


@pytest.mark.parametrize("size", [33 * 1024, 70 * 1024])
def test_oversized_headers_are_refused_and_gateway_survives(
    gateway: GatewayProcess, oidc_provider: Any, size: int
) -> None:
    raw = send_raw(
        gateway.port,
        b"GET /public/x HTTP/1.1\r\nHost: a\r\nX-Big: "
        + b"a" * size
        + b"\r\nConnection: close\r\n\r\n",
    )
    assert status_of(raw) in (0, 400, 413, 431)
    token = oidc_provider.token(claims={"sub": "x"})
    assert _get(gateway, "/public/x", token).status_code == 200


def test_oversized_token_is_refused(gateway: GatewayProcess) -> None:
    response = _get(gateway, "/public/x", "a" * 17000 + ".b.c")
    assert response.status_code in (400, 401, 431)


def test_unknown_route_is_denied(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "x", "groups": ["Admins"]})
    assert _get(gateway, "/other", token).status_code in (403, 404)
    assert seen.requests == []


def test_absolute_form_target(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "x"})
    raw = send_raw(
        gateway.port,
        f"GET http://evil.example/admin/users HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status_of(raw) in (400, 403)
    assert seen.requests == []


def test_non_ascii_claims_are_forwarded(
    gateway: GatewayProcess, oidc_provider: Any, seen: EchoUpstream
) -> None:
    token = oidc_provider.token(
        claims={"sub": "zoë\r\nX-Injected: 1", "groups": ["Analysts", "Über"]}
    )
    assert _get(gateway, "/reports/x", token).status_code == 200
    request = seen.requests[0]
    assert request.header("x-injected") is None
    assert "zo%C3%AB" in (request.header("x-glassgate-subject") or "")


def test_healthz_and_jwks(gateway: GatewayProcess) -> None:
    assert httpx.get(gateway.url + "/healthz").status_code == 200
    keys = httpx.get(gateway.url + "/.well-known/jwks.json").json()["keys"]
    assert keys
    assert keys[0]["kty"] == "EC"
    assert "d" not in keys[0]
