"""What the upstream sees: client identity claims stripped, the gateway's identity added.

Stripped, in any letter case: hop-by-hop headers (RFC 9110 7.6.1) and those
named in ``Connection``; identity headers a client could forge
(``X-Forwarded-User`` and friends, ``X-Auth-Request-*``, ``Remote-User``,
``X-Remote-*``, ``X-User*``, glassgate's own ``X-Glassgate-*``); any name holding
``_`` (CGI would turn ``X_Forwarded_User`` into ``HTTP_X_FORWARDED_USER``);
method overrides; and client-address claims, which are replaced by ours.

Added: ``X-Glassgate-Subject``, ``-Issuer``, ``-Groups`` (only the groups the
route names, so the list stays bounded), ``-Identity`` (a short-lived JWT signed
by the gateway), and ``X-Forwarded-For/-Proto/-Host``. Values from claims are
percent-encoded outside printable ASCII, so no claim can inject a header.

``upstream_identity`` is the one builder of an allowed request's identity, for
both doors; its docstring holds the one audience rule.
"""

from __future__ import annotations

from urllib.parse import quote

from glassgate.adapters.http.gate import GateResult
from glassgate.core.policy import CompiledRoute
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.request import AccessRequest
from glassgate.tokens.downstream import IdentitySigner
from glassgate.types import Headers
from glassgate.workflows.sessions import SESSION_COOKIE

__all__ = ["PREFIX", "forwardable", "identity_headers", "is_stripped", "upstream_identity"]


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
_EXACT = frozenset(
    {
        b"x-forwarded-user",
        b"x-forwarded-email",
        b"x-forwarded-groups",
        b"x-forwarded-preferred-username",
        b"x-forwarded-access-token",
        b"remote-user",
        b"x-http-method-override",
        b"x-http-method",
        b"x-method-override",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
        b"forwarded",
        b"true-client-ip",
        b"x-client-ip",
        b"cf-connecting-ip",
        b"x-cluster-client-ip",
        b"fastly-client-ip",
        b"x-original-forwarded-for",
        b"x-original-uri",
        b"x-original-method",
        b"x-original-url",
        b"x-rewrite-url",
    }
)
_PREFIXES = (b"x-auth-request-", b"x-remote-", b"x-user", PREFIX)
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in ',%\\"')


_GATEWAY_ONLY = frozenset({CredentialKind.API_KEY, CredentialKind.BREAKGLASS})
_SESSION_COOKIE = SESSION_COOKIE.encode("ascii") + b"="

_VERDICTS: dict[bytes, bool] = {}  # is_stripped per header name; names are client-chosen
_MAX_VERDICTS = 4096


def is_stripped(name: bytes) -> bool:
    """Whether a (lower-case) request header never reaches the upstream."""
    verdict = _VERDICTS.get(name)
    if verdict is None:
        verdict = (
            name in _HOP_BY_HOP or name in _EXACT or b"_" in name or name.startswith(_PREFIXES)
        )
        if len(_VERDICTS) >= _MAX_VERDICTS:
            _VERDICTS.clear()
        _VERDICTS[name] = verdict
    return verdict


def forwardable(headers: Headers, principal: Principal | None = None) -> Headers:
    """The client's headers that may pass to the upstream.

    An API key's or a break-glass session's ``Authorization`` is dropped as
    well: it is a credential for the gateway alone (an upstream, or its logs,
    could replay it), and the upstream learns who called from the signed
    identity instead. The break-glass session cookie is taken out of every
    ``Cookie`` header, whoever calls: a browser holding one sends it to every
    port of the host.
    """
    named: set[bytes] = set()
    session_cookie = False
    for name, value in headers:
        if name == b"connection":
            named.update(t.strip().lower() for t in value.split(b","))
        elif name == b"cookie" and _SESSION_COOKIE in value:
            session_cookie = True
    if principal is not None and principal.kind in _GATEWAY_ONLY:
        named.add(b"authorization")
    verdicts = _VERDICTS
    if not named and not session_cookie:
        return [h for h in headers if not (verdicts.get(h[0]) or is_stripped(h[0]))]
    kept = [
        h for h in headers if not (verdicts.get(h[0]) or is_stripped(h[0])) and h[0] not in named
    ]
    return _without_session_cookie(kept) if session_cookie else kept


def _without_session_cookie(headers: Headers) -> Headers:
    out: Headers = []
    for name, value in headers:
        if name != b"cookie" or _SESSION_COOKIE not in value:
            out.append((name, value))
            continue
        parts = [p.strip() for p in value.split(b";")]
        rest = b"; ".join(p for p in parts if p and not p.startswith(_SESSION_COOKIE))
        if rest:
            out.append((name, rest))
    return out


def _encode(value: str) -> bytes:
    return quote(value, safe=_SAFE).encode("ascii")


def identity_headers(
    principal: Principal | None,
    request: AccessRequest,
    forward_groups: frozenset[str],
    identity_jwt: str | None,
    scheme: str,
) -> Headers:
    headers: Headers = [
        (b"x-forwarded-for", str(request.client_ip).encode()),
        (b"x-forwarded-proto", scheme.encode("ascii", "replace")),
    ]
    if request.host:
        headers.append((b"x-forwarded-host", _encode(request.host)))
    if principal is None:
        return headers
    headers.append((PREFIX + b"subject", _encode(principal.subject)))
    headers.append((PREFIX + b"issuer", _encode(principal.issuer)))
    groups = sorted(principal.groups & forward_groups)
    if groups:
        headers.append((PREFIX + b"groups", b",".join(_encode(g) for g in groups)))
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
    jwt = None
    if principal is not None:
        audience = route.upstream or route.id
        jwt = signer.token_for(principal, audience, route.forward_groups, result.decided_at)
    return identity_headers(principal, result.facts.request, route.forward_groups, jwt, scheme)
