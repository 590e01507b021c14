"""adapters.http.identity_out: no client-sent identity claim reaches an upstream (issue 11 G).

The strip list is a set of families (prefixes), so a header a proxy or cloud
front door sets under a new suffix is covered too; names holding anything but
letters, digits and ``-`` are stripped because CGI, WSGI, PHP and Apache map
every such character to ``_`` (``X.Forwarded.User`` becomes
``HTTP_X_FORWARDED_USER``).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.adapters.http.identity_out import forwardable, is_stripped
from tests.support.echo_upstream import EchoUpstream
from tests.support.proxy_harness import ask_gateway, gateway_config, raw_request

# One or more members of each family that some proxy, IdP front door or cloud sets.
FORGED = [
    # oauth2-proxy, nginx auth_request setups, Traefik/Caddy forward-auth
    "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups",
    "X-Forwarded-Preferred-Username", "X-Forwarded-Access-Token", "X-Forwarded-Uri",
    "X-Forwarded-Method", "X-Forwarded-Client-Cert", "X-Forwarded-Ssl",
    "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
    "X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token",
    "X-Original-URI", "X-Original-Method", "X-Original-URL", "X-Original-Host",
    # Authelia, Apache REMOTE_USER conventions
    "Remote-User", "Remote-Groups", "Remote-Email", "Remote-Name",
    "X-Remote-User", "X-Remote-Groups",
    "X-User", "X-User-Id", "X-User-Groups", "X-Username",
    # Grafana auth proxy, Kong, authentik, Vouch, Pomerium
    "X-WEBAUTH-USER", "X-WEBAUTH-EMAIL", "X-Authenticated-User", "X-Authenticated-Userid",
    "X-Consumer-Username", "X-Consumer-ID", "X-Credential-Identifier",
    "X-authentik-username", "X-authentik-groups", "X-Vouch-User", "X-Pomerium-Jwt-Assertion",
    "X-Pomerium-Claim-Email",
    # cloud front doors: AWS ALB, Google IAP, Azure App Service, Cloudflare Access
    "X-Amzn-Oidc-Data", "X-Amzn-Oidc-Identity", "X-Amzn-Oidc-Accesstoken",
    "X-Goog-Authenticated-User-Email", "X-Goog-Authenticated-User-Id",
    "X-Goog-Iap-Jwt-Assertion", "X-Ms-Client-Principal", "X-Ms-Client-Principal-Name",
    "X-Ms-Client-Principal-Id", "X-Ms-Client-Principal-Idp", "X-Ms-Token-Aad-Id-Token",
    "Cf-Access-Authenticated-User-Email", "Cf-Access-Jwt-Assertion",
    # client certificates presented by a TLS terminator
    "X-SSL-Client-Cert", "X-SSL-Client-S-DN", "Ssl-Client-Cert", "X-Client-Cert",
    "X-ARR-ClientCert",
    # Envoy's trust markers
    "X-Envoy-Internal", "X-Envoy-External-Address",
    # glassgate's own
    "X-Glassgate-Subject", "X-Glassgate-Identity",
    # method overrides and client-address claims
    "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Real-IP",
    "Forwarded", "True-Client-IP", "X-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
    "X-Cluster-Client-IP", "X-Rewrite-URL",
    # separators that CGI/WSGI/PHP turn into '_'
    "X_Forwarded_User", "X.Forwarded.User", "X-Forwarded.User", "Remote.User",
    "X~User", "X+Auth+Request+User", "X!Remote!User", "X'User",
]  # fmt: skip

KEPT = [
    "Accept", "Accept-Language", "Content-Type", "Authorization", "Cookie", "User-Agent",
    "If-None-Match", "X-Request-Id", "X-Correlation-Id", "Traceparent", "X-Api-Version",
    "X-Amzn-Trace-Id", "Origin", "Referer", "X-Csrf-Token", "X-Auth-Token",
]  # fmt: skip


@pytest.mark.parametrize("name", FORGED)
def test_identity_claim_is_stripped(name: str) -> None:
    assert is_stripped(name.lower().encode("latin-1"))


@pytest.mark.parametrize("name", KEPT)
def test_ordinary_header_is_kept(name: str) -> None:
    assert not is_stripped(name.lower().encode("latin-1"))


def _cgi(name: str) -> str:
    """How CGI (RFC 3875 4.1.18), Apache and PHP name a request header."""
    return "HTTP_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


_TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FORGED), st.text(_TCHAR, min_size=1, max_size=30))
def test_no_kept_name_reads_as_a_stripped_one_in_cgi(forged: str, name: str) -> None:
    # Whatever a client sends, a name that passes can never collide with a stripped
    # one once the upstream maps separators to '_'.
    if not is_stripped(name.encode()):
        assert re.fullmatch(r"[a-z0-9-]+", name)
        assert _cgi(name) != _cgi(forged) or name == forged.lower()


def test_forwardable_keeps_order_and_values() -> None:
    headers = [(b"accept", b"*/*"), (b"remote-groups", b"Admins"), (b"x-request-id", b"1")]
    assert forwardable(headers) == [(b"accept", b"*/*"), (b"x-request-id", b"1")]


ROUTES = """
routes:
  - id: open
    match: { path: /* }
    upstream: app
"""


def test_no_forged_header_reaches_the_upstream(upstream: EchoUpstream) -> None:
    forged = [f"{name}: forged" for name in FORGED]
    raw = raw_request("GET", "/x", "authorization: Bearer tok-Staff", *forged)
    upstream.clear()
    [reply] = ask_gateway(gateway_config(upstream.url, ROUTES), raw)
    assert reply.status == 200
    (seen,) = upstream.requests
    assert [value for _, value in seen.headers if value == "forged"] == []
    assert seen.header("x-glassgate-subject") == "user-Staff"
