"""The forward-auth door with a fake authenticator: every flavour, every outcome, hostile input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from glassgate.adapters.http.asgi import GatewayApp
from glassgate.adapters.http.forward_auth import Door, door_for, forward_auth
from glassgate.adapters.http.gate import Gate, GateResult
from glassgate.adapters.http.inbound import Inbound
from glassgate.adapters.http.outbound import Answer
from glassgate.adapters.http.upstreams import Upstream
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import LoadedConfig, load_config_text
from glassgate.config.schema import ForwardAuthConfig
from glassgate.core.principal import CredentialKind, Principal
from glassgate.errors import ConfigError, TokenExpiredError
from glassgate.tokens.downstream import IdentitySigner

NOW = 1_800_000_000.0
ISSUER = "http://127.0.0.1:9400"

CONFIG = """
version: 1
trusted_proxies: [127.0.0.1/32, "::1/128", 10.0.0.0/8]
forward_auth: { enabled: true, allowed_peers: [127.0.0.1/32, "::1/128"] }
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
upstreams:
  - id: app
    targets: [http://127.0.0.1:9000]
auth_strength:
  mfa: { amr: [mfa] }
quotas:
  tiny: { rate: 1, per: 1h, burst: 1 }
routes:
  - id: health
    match: { path: /open/* }
    anonymous: true
  - id: public
    match: { path: /public/* }
    upstream: app
  - id: write
    match: { path: /write/*, methods: [POST] }
  - id: tenant
    match: { path: /tenant/*, hosts: [api.example.com] }
  - id: reports
    match: { path: /reports/* }
    upstream: app
    allow: { groups: [Analysts] }
    deny: { groups: [Contractors] }
  - id: admin
    match: { path: /admin/* }
    upstream: app
    allow: { groups: [Admins] }
    require: { auth_strength: mfa, max_auth_age: 300 }
  - id: breakglass
    match: { path: /breakglass/* }
    allow: { networks: [127.0.0.1/32], groups: [BreakGlass] }
  - id: limited
    match: { path: /limited/* }
    quota: tiny
"""

PRINCIPALS = {
    "tok-plain": Principal("pat", ISSUER, groups=frozenset({"Developers"}), token_hash="h1"),
    "tok-analyst": Principal("ann", ISSUER, groups=frozenset({"Analysts", "X"}), token_hash="h2"),
    "tok-contractor": Principal(
        "con", ISSUER, groups=frozenset({"Analysts", "Contractors"}), token_hash="h3"
    ),
    "tok-admin-mfa": Principal(
        "ada",
        ISSUER,
        groups=frozenset({"Admins"}),
        amr=frozenset({"pwd", "mfa"}),
        auth_time=int(NOW) - 10,
        token_hash="h4",
    ),
    "tok-admin-pwd": Principal(
        "adp", ISSUER, groups=frozenset({"Admins"}), amr=frozenset({"pwd"}), token_hash="h5"
    ),
    "tok-bg": Principal("bg", ISSUER, groups=frozenset({"BreakGlass"}), token_hash="h6"),
    "tok-key-public": Principal(  # a machine key scoped to the public route only
        "svc:ci",
        "urn:glassgate:api-key",
        groups=frozenset({"Developers"}),
        token_hash="h7",
        kind=CredentialKind.API_KEY,
        route_scope=frozenset({"public"}),
    ),
}


@dataclass
class FakeAuthenticator:
    """Maps raw tokens to principals; anything else is an expired token."""

    seen: list[str] = field(default_factory=list)

    async def authenticate(self, raw: str, now: float) -> Principal:
        self.seen.append(raw)
        principal = PRINCIPALS.get(raw)
        if principal is None:
            raise TokenExpiredError("expired")
        return principal


@dataclass
class Recorder:
    results: list[GateResult] = field(default_factory=list)

    def record(self, result: GateResult) -> None:
        self.results.append(result)


@dataclass
class FakeState:
    loaded: LoadedConfig
    gate: Gate
    inbound: Inbound
    authenticator: FakeAuthenticator
    recorder: Recorder
    signer: IdentitySigner
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    ready: bool = True
    breakglass_door: None = None  # no breakglass section

    @property
    def config(self) -> ForwardAuthConfig:
        return self.loaded.config.forward_auth

    def ask(
        self,
        headers: Iterable[tuple[str, str]],
        *,
        path: str = "/_glassgate/auth",
        method: str = "GET",
        peer: str | None = "127.0.0.1",
        query: bytes = b"",
    ) -> Answer:
        raw = path.encode()
        door = door_for(self.config, raw)
        assert door is not None
        scope = _scope(method, raw, query, headers, peer)
        return asyncio.run(forward_auth(door, self.config, self, self.signer, scope))


def _scope(
    method: str, raw: bytes, query: bytes, headers: Iterable[tuple[str, str]], peer: str | None
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": raw.decode(),
        "raw_path": raw,
        "query_string": query,
        "scheme": "http",
        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        "client": (peer, 40000) if peer is not None else None,
    }


def _build(text: str = CONFIG) -> FakeState:
    loaded = load_config_text(text, "test.yaml", {})
    compiled = loaded.compiled
    authenticator, recorder = FakeAuthenticator(), Recorder()
    gate = Gate(
        compiled.policy,
        authenticator,
        MemoryQuotaStore(),
        dict(compiled.quota_tiers),
        lambda: NOW,
        (recorder,),
    )
    inbound = Inbound(
        compiled.trusted_proxies, 32 * 1024, 16 * 1024, door_peers=compiled.forward_auth_peers
    )
    return FakeState(loaded, gate, inbound, authenticator, recorder, IdentitySigner("glassgate"))


@pytest.fixture
def door() -> FakeState:
    return _build()


def nginx(uri: str, method: str = "GET", token: str | None = None) -> list[tuple[str, str]]:
    headers = [
        ("Host", "app.example.com"),
        ("X-Original-URI", uri),
        ("X-Original-Method", method),
        ("X-Forwarded-For", "192.0.2.10"),
    ]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    return headers


def traefik(uri: str, method: str = "GET", token: str | None = None) -> list[tuple[str, str]]:
    headers = [
        ("Host", "127.0.0.1:8081"),
        ("X-Forwarded-Method", method),
        ("X-Forwarded-Uri", uri),
        ("X-Forwarded-Host", "api.example.com"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-For", "192.0.2.10"),
    ]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    return headers


def header(answer: Answer, name: str) -> str | None:
    values = [v.decode() for n, v in answer.headers if n == name.lower().encode()]
    assert len(values) <= 1
    return values[0] if values else None


def reason(answer: Answer) -> str:
    return str(json.loads(answer.body)["reason"])


# -- which requests open the door ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/_glassgate/auth", Door.FORWARDED, id="case=auth-path"),
        pytest.param("/_glassgate/auth/", None, id="case=auth-path-slash"),
        pytest.param("/_glassgate/authz", None, id="case=auth-path-longer"),
        pytest.param("/_glassgate/ext_authz", Door.EXT_AUTHZ, id="case=ext-authz-bare"),
        pytest.param("/_glassgate/ext_authz/admin/x", Door.EXT_AUTHZ, id="case=ext-authz-below"),
        pytest.param("/_glassgate/ext_authzx/admin", None, id="case=ext-authz-longer"),
        pytest.param("/public/x", None, id="case=other"),
    ],
)
def test_door_for_matches_exact_path_and_prefix(path: str, expected: Door | None) -> None:
    assert door_for(ForwardAuthConfig(enabled=True), path.encode()) == expected


def test_door_is_closed_unless_enabled() -> None:
    assert door_for(ForwardAuthConfig(), b"/_glassgate/auth") is None
    assert door_for(ForwardAuthConfig(), b"/_glassgate/ext_authz/x") is None


def test_paths_are_configurable() -> None:
    config = ForwardAuthConfig(enabled=True, path="/authz", ext_authz_prefix="/envoy")
    assert door_for(config, b"/authz") is Door.FORWARDED
    assert door_for(config, b"/envoy/x") is Door.EXT_AUTHZ
    assert door_for(config, b"/_glassgate/auth") is None


@pytest.mark.parametrize("bad", ["_glassgate/auth", "/a/../b", "/a b", "/", "/a/"])
def test_config_refuses_odd_paths(bad: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        ForwardAuthConfig(enabled=True, path=bad)


# -- the caller must be a trusted proxy ------------------------------------------------------


@pytest.mark.parametrize("peer", ["127.0.0.2", "10.0.0.1", "::2", None, "not-an-ip"])
def test_untrusted_caller_gets_403_and_no_decision(door: FakeState, peer: str | None) -> None:
    answer = door.ask(nginx("/public/x", token="tok-plain"), peer=peer)
    assert answer.status == 403
    assert reason(answer) == "forward_auth_caller_untrusted"
    assert door.authenticator.seen == []
    assert door.recorder.results == []


@pytest.mark.parametrize("peer", ["::1", "::ffff:127.0.0.1"])
def test_trusted_caller_over_ipv6(door: FakeState, peer: str) -> None:
    assert door.ask(nginx("/public/x", token="tok-plain"), peer=peer).status == 200


def test_a_trusted_proxy_that_is_not_an_allowed_peer_is_refused(door: FakeState) -> None:
    # A load balancer (10.0.0.1) is trusted for X-Forwarded-For, but whoever sits behind it
    # must not be able to ask the door and collect signed identity tokens (issue 11 J).
    for peer in ("10.0.0.1", "127.0.0.2"):
        answer = door.ask(nginx("/public/x", token="tok-plain"), peer=peer)
        assert answer.status == 403
        assert header(answer, "x-glassgate-identity") is None
    assert door.authenticator.seen == []


def test_door_without_allowed_peers_is_refused_at_load() -> None:
    text = CONFIG.replace(', allowed_peers: [127.0.0.1/32, "::1/128"]', "")
    with pytest.raises(ConfigError, match=r"forward_auth\.allowed_peers"):
        _build(text)


def test_an_allowed_peer_must_be_a_trusted_proxy() -> None:
    text = CONFIG.replace("allowed_peers: [127.0.0.1/32", "allowed_peers: [192.0.2.9/32")
    with pytest.raises(ConfigError, match=r"forward_auth\.allowed_peers\[0\].*trusted_proxies"):
        _build(text)


# -- outcomes, the same as the proxy door ----------------------------------------------------


@pytest.mark.parametrize("flavour", [nginx, traefik], ids=["nginx", "traefik"])
def test_allow_answers_200_with_identity_headers(door: FakeState, flavour: Any) -> None:
    answer = door.ask(flavour("/reports/q1?x=1", token="tok-analyst"))
    assert answer.status == 200
    assert answer.body == b""
    assert header(answer, "x-glassgate-subject") == "ann"
    assert header(answer, "x-glassgate-issuer") == ISSUER
    assert header(answer, "x-glassgate-groups") == "Analysts"  # only groups the route names
    identity = header(answer, "x-glassgate-identity")
    assert identity is not None
    assert identity.count(".") == 2
    assert header(answer, "cache-control") == "no-store"
    names = {n for n, _ in answer.headers}
    assert not any(n.startswith(b"x-forwarded-") for n in names)  # the proxy sets those


def test_identity_token_audience_is_the_route_upstream_or_id(door: FakeState) -> None:
    import base64

    def audience(answer: Answer) -> object:
        payload = (header(answer, "x-glassgate-identity") or "").split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]

    assert audience(door.ask(nginx("/public/x", token="tok-plain"))) == "app"
    assert audience(door.ask(nginx("/write/x", "POST", token="tok-plain"))) == "write"


def test_anonymous_route_answers_200_without_identity(door: FakeState) -> None:
    answer = door.ask(nginx("/open/status"))
    assert answer.status == 200
    assert not any(n.startswith(b"x-glassgate-") for n, _ in answer.headers)


def test_a_key_is_asserted_only_where_its_scope_reaches(door: FakeState) -> None:
    inside = door.ask(nginx("/public/x", token="tok-key-public"))
    assert (inside.status, header(inside, "x-glassgate-subject")) == (200, "svc:ci")
    outside = door.ask(nginx("/open/status", token="tok-key-public"))  # anonymous, out of scope
    assert outside.status == 200
    assert not any(n.startswith(b"x-glassgate-") for n, _ in outside.headers)


def test_deny_wins_403(door: FakeState) -> None:
    answer = door.ask(nginx("/reports/q1", token="tok-contractor"))
    assert answer.status == 403
    assert header(answer, "x-glassgate-subject") is None


def test_unmatched_path_is_denied(door: FakeState) -> None:
    assert door.ask(traefik("/elsewhere", token="tok-admin-mfa")).status == 403


def test_step_up_is_401_with_rfc9470_challenge(door: FakeState) -> None:
    answer = door.ask(nginx("/admin/users", token="tok-admin-pwd"))
    assert answer.status == 401
    challenge = header(answer, "www-authenticate") or ""
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert 'max_age="300"' in challenge


def test_strong_admin_is_allowed(door: FakeState) -> None:
    assert door.ask(nginx("/admin/users", token="tok-admin-mfa")).status == 200


def test_no_token_is_401_bearer(door: FakeState) -> None:
    answer = door.ask(nginx("/public/x"))
    assert answer.status == 401
    assert header(answer, "www-authenticate") == "Bearer"


def test_invalid_token_is_401_invalid_token_and_never_echoed(door: FakeState) -> None:
    answer = door.ask(nginx("/public/x", token="tok-forged"))
    assert answer.status == 401
    assert header(answer, "www-authenticate") == 'Bearer error="invalid_token"'
    assert b"tok-forged" not in answer.body


def test_quota_exhausted_is_429_with_retry_after(door: FakeState) -> None:
    assert door.ask(nginx("/limited/a", token="tok-plain")).status == 200
    answer = door.ask(nginx("/limited/a", token="tok-plain"))
    assert answer.status == 429
    assert int(header(answer, "retry-after") or "0") >= 1
    assert header(answer, "ratelimit-policy") is not None


def test_decisions_reach_the_same_sinks_as_the_proxy(door: FakeState) -> None:
    door.ask(nginx("/reports/q1", token="tok-contractor"))
    assert [r.decision.route_id for r in door.recorder.results] == ["reports"]


# -- the request being authorised is the described one --------------------------------------


@pytest.mark.parametrize("flavour", [nginx, traefik], ids=["nginx", "traefik"])
def test_forwarded_method_is_authorised_not_the_auth_requests(
    door: FakeState, flavour: Any
) -> None:
    assert door.ask(flavour("/write/x", "POST", token="tok-plain"), method="GET").status == 200
    assert door.ask(flavour("/write/x", "DELETE", token="tok-plain"), method="POST").status == 403


def test_forwarded_host_is_the_host_for_traefik(door: FakeState) -> None:
    assert door.ask(traefik("/tenant/a", token="tok-plain")).status == 200
    other = [
        (n, "evil.example.com" if n == "X-Forwarded-Host" else v)
        for n, v in traefik("/tenant/a", token="tok-plain")
    ]
    assert door.ask(other).status == 403


def test_host_header_is_the_host_for_nginx(door: FakeState) -> None:
    headers = nginx("/tenant/a", token="tok-plain")
    assert door.ask(headers).status == 403  # Host is app.example.com
    fixed = [(n, "api.example.com:443" if n == "Host" else v) for n, v in headers]
    assert door.ask(fixed).status == 200


def test_percent_decoding_is_done_once_before_matching(door: FakeState) -> None:
    assert door.ask(nginx("/%61dmin/users", token="tok-admin-pwd")).status == 401
    assert door.ask(nginx("/public/caf%C3%A9?q=%2F", token="tok-plain")).status == 200


def test_client_address_comes_from_trusted_x_forwarded_for(door: FakeState) -> None:
    described = nginx("/breakglass/x", token="tok-bg")
    spoofed = _replace(described, "X-Forwarded-For", "127.0.0.1, 127.0.0.2")
    assert door.ask(spoofed).status == 403  # the proxy appended the real client, 127.0.0.2
    local = _replace(described, "X-Forwarded-For", "127.0.0.1")
    assert door.ask(local).status == 200
    assert door.ask(described).status == 403  # 192.0.2.10


# -- hostile descriptions: 400, never 200 ----------------------------------------------------


def _without(headers: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n != name]


def _replace(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in headers]


_NGINX = nginx("/public/x", token="tok-plain")
_TRAEFIK = traefik("/public/x", token="tok-plain")

HOSTILE = [
    pytest.param([("Host", "a"), ("Authorization", "Bearer tok-plain")], id="case=no-description"),
    pytest.param(_without(_NGINX, "X-Original-URI"), id="case=missing-original-uri"),
    pytest.param(_without(_NGINX, "X-Forwarded-For"), id="case=missing-client-nginx"),
    pytest.param(_without(_TRAEFIK, "X-Forwarded-For"), id="case=missing-client-traefik"),
    pytest.param(_without(_NGINX, "X-Original-Method"), id="case=missing-original-method"),
    pytest.param(_without(_TRAEFIK, "X-Forwarded-Uri"), id="case=missing-forwarded-uri"),
    pytest.param(_without(_TRAEFIK, "X-Forwarded-Method"), id="case=missing-forwarded-method"),
    pytest.param(_replace(_NGINX, "X-Original-URI", ""), id="case=empty-uri"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "http://evil/public/x"), id="case=absolute"),
    pytest.param(_replace(_TRAEFIK, "X-Forwarded-Uri", "//evil/public/x"), id="case=scheme-rel"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "*"), id="case=asterisk"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "public/x"), id="case=relative"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/..%2Fadmin"), id="case=enc-slash"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/..%2fadmin"), id="case=enc-slash-lc"),
    pytest.param(
        _replace(_TRAEFIK, "X-Forwarded-Uri", "/public/%252e%252e/admin"), id="case=2xenc"
    ),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/..%5Cadmin"), id="case=enc-bslash"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public\\..\\admin"), id="case=backslash"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/%00"), id="case=nul"),
    pytest.param(
        _replace(_NGINX, "X-Original-URI", "/public/%c0%ae%c0%ae/admin"), id="case=overlong"
    ),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/..;/admin"), id="case=dot-params"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/../admin"), id="case=above-root"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/../admin"), id="case=dots"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/admin/../public/x"), id="case=dots-down"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/./x"), id="case=dot"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/x/.."), id="case=dots-end"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/admin/%2E%2e/public/x"), id="case=enc-dots"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/admin/.%2e/public/x"), id="case=half-enc"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public//x"), id="case=double-slash"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/x#frag"), id="case=fragment"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/\u00e9"), id="case=raw-non-ascii"),
    pytest.param(_replace(_NGINX, "X-Original-URI", "/public/a b"), id="case=space"),
    pytest.param(_replace(_NGINX, "X-Original-Method", ""), id="case=empty-method"),
    pytest.param(_replace(_NGINX, "X-Original-Method", "GE T"), id="case=method-space"),
    pytest.param(_replace(_NGINX, "X-Original-Method", "GET\r\nX"), id="case=method-crlf"),
    pytest.param(_replace(_NGINX, "X-Original-Method", "G" * 33), id="case=method-long"),
    pytest.param([*_NGINX, ("X-Forwarded-Uri", "/public/x")], id="case=mixed-flavours"),
    pytest.param([*_TRAEFIK, ("X-Original-URI", "/public/x")], id="case=mixed-flavours-2"),
    pytest.param([*_NGINX, ("X-Original-URI", "/public/y")], id="case=two-original-uri"),
    pytest.param([*_TRAEFIK, ("X-Forwarded-Method", "GET")], id="case=two-forwarded-method"),
    pytest.param([*_TRAEFIK, ("X-Forwarded-Host", "b")], id="case=two-forwarded-host"),
    pytest.param([*_NGINX, ("Authorization", "Bearer tok-admin-mfa")], id="case=two-authz"),
    pytest.param(
        [*_NGINX, ("Content-Length", "3"), ("Transfer-Encoding", "chunked")], id="case=cl-and-te"
    ),
]


@pytest.mark.parametrize("headers", HOSTILE)
def test_hostile_description_is_400(door: FakeState, headers: list[tuple[str, str]]) -> None:
    answer = door.ask(headers)
    assert answer.status == 400
    assert door.authenticator.seen == []
    assert not any(n.startswith(b"x-glassgate-") for n, _ in answer.headers)


def test_oversized_header_section_is_431(door: FakeState) -> None:
    answer = door.ask([*_NGINX, ("X-Padding", "a" * 40_000)])
    assert answer.status == 431


def test_a_path_of_the_wrong_shape_in_the_proxy_header_is_ignored_by_envoy(door: FakeState) -> None:
    # Envoy's door reads the path from the request line only.
    headers = [*_envoy(), ("X-Original-URI", "/admin"), ("X-Original-Method", "DELETE")]
    assert door.ask(headers, path="/_glassgate/ext_authz/public/x").status == 200


def test_envoy_must_name_the_client(door: FakeState) -> None:
    headers = _without(_envoy(), "X-Forwarded-For")
    assert door.ask(headers, path="/_glassgate/ext_authz/public/x").status == 400


# -- Envoy ext_authz (HTTP) ------------------------------------------------------------------


def _envoy(token: str | None = "tok-plain") -> list[tuple[str, str]]:
    headers = [("Host", "api.example.com"), ("X-Forwarded-For", "192.0.2.10")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    return headers


def test_envoy_path_below_prefix_is_the_request(door: FakeState) -> None:
    answer = door.ask(_envoy(), path="/_glassgate/ext_authz/public/x", query=b"a=1")
    assert answer.status == 200
    assert header(answer, "x-glassgate-subject") == "pat"


def test_envoy_method_and_host_are_the_originals(door: FakeState) -> None:
    assert door.ask(_envoy(), path="/_glassgate/ext_authz/write/x", method="POST").status == 200
    assert door.ask(_envoy(), path="/_glassgate/ext_authz/write/x", method="PUT").status == 403
    assert door.ask(_envoy(), path="/_glassgate/ext_authz/tenant/a").status == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/_glassgate/ext_authz", 400, id="case=bare-prefix"),
        pytest.param("/_glassgate/ext_authz/../admin/x", 400, id="case=above-root"),
        pytest.param("/_glassgate/ext_authz/public/..%2Fadmin", 400, id="case=enc-slash"),
        pytest.param("/_glassgate/ext_authz/public/%2e%2e/admin/x", 400, id="case=enc-dots"),
        pytest.param("/_glassgate/ext_authz//admin/x", 400, id="case=double-slash"),
        pytest.param("/_glassgate/ext_authz/admin/x", 401, id="case=step-up"),
    ],
)
def test_envoy_paths(door: FakeState, path: str, status: int) -> None:
    assert door.ask(_envoy("tok-admin-pwd"), path=path).status == status


def test_envoy_no_token_is_401(door: FakeState) -> None:
    assert door.ask(_envoy(None), path="/_glassgate/ext_authz/public/x").status == 401


# -- the ASGI app routes to the door before the proxy ----------------------------------------


@dataclass
class FakeHolder:
    """The ``ports.StateSource`` the ASGI app reads: one fixed state, never reloaded."""

    state: FakeState
    path: str = "test.yaml"
    reloads_ok: int = 0
    reloads_failed: int = 0

    async def start(self) -> None:
        """Already built."""

    async def reload(self) -> bool:
        return False

    async def aclose(self) -> None:
        """Nothing to close."""


def _app(door: FakeState) -> GatewayApp:
    return GatewayApp(FakeHolder(door), door.signer, watch=False)


def _call(app: GatewayApp, scope: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sent[0]["headers"]


def test_app_dispatches_to_the_door(door: FakeState) -> None:
    scope = _scope(
        "GET", b"/_glassgate/auth", b"", nginx("/public/x", token="tok-plain"), "127.0.0.1"
    )
    status, headers = _call(_app(door), scope)
    assert status == 200
    assert (b"x-glassgate-subject", b"pat") in headers


def test_app_with_the_door_disabled_treats_the_path_as_any_other(door: FakeState) -> None:
    closed = _build(
        CONFIG.replace(
            'forward_auth: { enabled: true, allowed_peers: [127.0.0.1/32, "::1/128"] }', ""
        )
    )
    scope = _scope(
        "GET", b"/_glassgate/auth", b"", nginx("/public/x", token="tok-plain"), "127.0.0.1"
    )
    status, headers = _call(_app(closed), scope)
    assert status == 403  # /_glassgate/auth matches no route: default deny
    assert not any(n == b"x-glassgate-subject" for n, _ in headers)
