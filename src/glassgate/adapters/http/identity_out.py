"""What the upstream sees: client identity claims stripped, the gateway's identity added.

Stripped, in any letter case: hop-by-hop headers (RFC 9110 7.6.1) and those
named in ``Connection``; identity headers a client could forge, by family
(``_FAMILIES``: every prefix that common proxies, IdP front doors and clouds
use, e.g. ``X-Forwarded-*``, ``X-Auth-Request-*``, ``Remote-*``,
``X-Amzn-Oidc-*``, ``X-Goog-Authenticated-User-*``, ``X-Ms-Client-Principal*``,
glassgate's own ``X-Glassgate-*``); any name holding a character other than a
letter, digit or ``-`` (CGI would turn ``X_Forwarded_User`` or
``X.Forwarded.User`` into ``HTTP_X_FORWARDED_USER``); method overrides; and
client-address claims, which are replaced by ours.

Added: ``X-Glassgate-Subject``, ``-Issuer``, ``-Groups`` (only the groups the
route names, so the list stays bounded), ``-Identity`` (a short-lived JWT signed
by the gateway), and ``X-Forwarded-For/-Proto/-Host``. Values from claims are
percent-encoded outside printable ASCII, so no claim can inject a header.

``upstream_identity`` is the one builder of an allowed request's identity, for
both doors; its docstring holds the one audience rule.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

from glassgate.adapters.http.gate import GateResult
from glassgate.core.policy import CompiledRoute
from glassgate.core.principal import Principal
from glassgate.core.request import AccessRequest, address_text
from glassgate.tokens.api_keys import is_api_key
from glassgate.tokens.downstream import IdentitySigner
from glassgate.types import Headers
from glassgate.workflows.sessions import is_session_token

__all__ = [
    "OWN_COOKIE_PREFIX",
    "PREFIX",
    "carries_gateway_credential",
    "forwardable",
    "identity_headers",
    "is_stripped",
    "upstream_identity",
]


PREFIX = b"x-glassgate-"
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"expect",
    }
)
# Identity claims come in families: each proxy, IdP front door and cloud names its
# headers under one prefix and adds suffixes over time, so whole prefixes are stripped.
_FAMILIES = (
    b"x-forwarded-",  # oauth2-proxy identity, X-Forwarded-For/-Host/-Uri/-Method/-Client-Cert
    b"x-original-",  # nginx auth_request descriptions: -URI, -Method, -URL, -Host
    b"x-auth-request-",  # oauth2-proxy
    b"x-authenticated-",  # Kong and others: -User, -Userid, -Groups, -Scope
    b"remote-",  # Authelia and REMOTE_USER conventions: -User, -Groups, -Email, -Name
    b"x-remote-",
    b"x-user",  # X-User, X-User-Id, X-User-Groups, X-Username
    b"x-webauth-",  # Grafana's auth proxy
    b"x-consumer-",  # Kong consumers
    b"x-credential-",  # Kong
    b"x-authentik-",  # authentik
    b"x-vouch-",  # Vouch Proxy
    b"x-pomerium-",  # Pomerium: -Jwt-Assertion, -Claim-*
    b"x-amzn-oidc-",  # AWS ALB: -Data, -Identity, -Accesstoken
    b"x-goog-authenticated-user-",  # Google IAP: -Email, -Id
    b"x-goog-iap-",  # Google IAP: -Jwt-Assertion
    b"x-ms-client-principal",  # Azure App Service: itself, -Name, -Id, -Idp
    b"x-ms-token-",  # Azure App Service token store
    b"cf-access-",  # Cloudflare Access: -Jwt-Assertion, -Authenticated-User-Email
    b"x-ssl-client-",  # client certificates passed on by a TLS terminator
    b"ssl-client-",
    b"x-client-cert",
    b"x-arr-clientcert",  # Azure
    b"x-envoy-",  # Envoy's trust markers: -Internal, -External-Address
    PREFIX,  # glassgate's own
)
_EXACT = frozenset(
    {
        b"x-http-method-override",
        b"x-http-method",
        b"x-method-override",
        b"x-real-ip",
        b"forwarded",
        b"true-client-ip",
        b"x-client-ip",
        b"cf-connecting-ip",
        b"x-cluster-client-ip",
        b"fastly-client-ip",
        b"x-rewrite-url",
    }
)
# CGI (RFC 3875 4.1.18), Apache, PHP and WSGI servers turn every character but
# letters and digits into '_', so X.Forwarded.User would arrive as
# HTTP_X_FORWARDED_USER: a name with anything but [a-z0-9-] never passes.
_PLAIN_NAME = re.compile(rb"[a-z0-9-]+")
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in ',%\\"')


OWN_COOKIE_PREFIX = b"gg_"  # reserved: every cookie glassgate sets starts with it

_VERDICTS: dict[bytes, bool] = {}  # is_stripped per header name; names are client-chosen
_MAX_VERDICTS = 4096


def is_stripped(name: bytes) -> bool:
    """Whether a (lower-case) request header never reaches the upstream."""
    verdict = _VERDICTS.get(name)
    if verdict is None:
        verdict = (
            name in _HOP_BY_HOP
            or name in _EXACT
            or name.startswith(_FAMILIES)
            or _PLAIN_NAME.fullmatch(name) is None
        )
        if len(_VERDICTS) >= _MAX_VERDICTS:
            _VERDICTS.clear()
        _VERDICTS[name] = verdict
    return verdict


def carries_gateway_credential(authorization: bytes) -> bool:
    """Whether an ``Authorization`` value holds a ``gg_`` key or a ``ggbg_`` session token
    (any case, scheme or spacing).

    Judged on the raw header, not on what became of it: a key or session that
    was refused, unknown, malformed, sent without ``Bearer`` or never checked
    (keys disabled, store down) is a secret for the gateway all the same.
    """
    return any(
        is_api_key(text) or is_session_token(text)
        for text in (part.decode("latin-1") for part in authorization.split())
    )


def forwardable(headers: Headers) -> Headers:
    """The client's headers that may pass to the upstream.

    An ``Authorization`` carrying a ``gg_`` API key or a ``ggbg_`` break-glass
    session token is dropped as well, whatever became of it: it is a
    credential for the gateway alone (an upstream, or its logs, could replay
    it), and the upstream learns who called from the signed identity instead.
    An IdP token is passed on. glassgate's own cookies (the reserved ``gg_``
    prefix: the break-glass session, the console sign-in, the console's CSRF
    value) are taken out of every ``Cookie`` header, whoever calls: a browser
    sends every cookie of a host to every port of it, so the console's cookies
    come along to the data plane, and no upstream may see them.
    """
    named: set[bytes] = set()
    own_cookies = False
    for name, value in headers:
        if name == b"connection":
            named.update(t.strip().lower() for t in value.split(b","))
        elif name == b"authorization" and carries_gateway_credential(value):
            named.add(b"authorization")
        elif name == b"cookie" and OWN_COOKIE_PREFIX in value:
            own_cookies = True
    verdicts = _VERDICTS
    if not named and not own_cookies:
        return [h for h in headers if not (verdicts.get(h[0]) or is_stripped(h[0]))]
    kept = [
        h for h in headers if not (verdicts.get(h[0]) or is_stripped(h[0])) and h[0] not in named
    ]
    return _without_own_cookies(kept) if own_cookies else kept


def _without_own_cookies(headers: Headers) -> Headers:
    out: Headers = []
    for name, value in headers:
        if name != b"cookie" or OWN_COOKIE_PREFIX not in value:
            out.append((name, value))
            continue
        parts = [p.strip() for p in value.split(b";")]
        rest = b"; ".join(p for p in parts if p and not p.startswith(OWN_COOKIE_PREFIX))
        if rest:
            out.append((name, rest))
    return out


@functools.lru_cache(maxsize=8192)
def _encode(value: str) -> bytes:
    """Percent-encoded header value; memoised: hosts, issuers, subjects and groups repeat,
    and ``quote`` costs a microsecond each (bounded: at most 8192 values are kept)."""
    return quote(value, safe=_SAFE).encode("ascii")


@functools.lru_cache(maxsize=4096)
def _groups_value(groups: frozenset[str], forward: frozenset[str]) -> bytes | None:
    """The groups header for a principal on a route (frozensets keep their hash)."""
    shown = sorted(groups & forward)
    return b",".join(_encode(g) for g in shown) if shown else None


def identity_headers(
    principal: Principal | None,
    request: AccessRequest,
    forward_groups: frozenset[str],
    identity_jwt: str | None,
    scheme: str,
) -> Headers:
    headers: Headers = [
        (b"x-forwarded-for", address_text(request.client_ip).encode()),
        (b"x-forwarded-proto", scheme.encode("ascii", "replace")),
    ]
    if request.host:
        headers.append((b"x-forwarded-host", _encode(request.host)))
    if principal is None:
        return headers
    headers.append((PREFIX + b"subject", _encode(principal.subject)))
    headers.append((PREFIX + b"issuer", _encode(principal.issuer)))
    groups = _groups_value(principal.groups, forward_groups)
    if groups is not None:
        headers.append((PREFIX + b"groups", groups))
    if identity_jwt is not None:
        headers.append((PREFIX + b"identity", identity_jwt.encode("ascii")))
    return headers


def upstream_identity(
    result: GateResult, route: CompiledRoute, signer: IdentitySigner, scheme: str
) -> Headers:
    """The identity headers of an allowed request on ``route``; both doors call this.

    The audience rule, the one for both doors: the identity JWT's ``aud`` is
    the route's upstream id, or the route's own id when the route names no
    upstream (behind forward-auth the proxy, not glassgate, knows the upstream).
    A token minted for one upstream is therefore refused by every other one.
    It is issued at the decision time (``GateResult.decided_at``); an anonymous
    request gets the forwarding headers only.
    """
    principal = result.principal
    if principal is not None and not route.admits(principal):
        principal = None  # e.g. a key scoped elsewhere on an anonymous route: not asserted
    jwt = None
    if principal is not None:
        audience = route.upstream or route.id
        jwt = signer.token_for(principal, audience, route.forward_groups, result.decided_at)
    return identity_headers(principal, result.facts.request, route.forward_groups, jwt, scheme)
