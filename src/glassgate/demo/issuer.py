"""A development-only OIDC token issuer for ``glassgate demo``. NEVER FOR PRODUCTION.

Why it exists: the demo must show token checks without the user owning an
identity provider. It publishes the two documents a resource server needs
(OIDC discovery and a JWK Set, on 127.0.0.1) and mints RFC 9068 ``at+jwt``
access tokens with whatever ``groups``, ``amr``, ``acr`` and ``auth_time`` a
sample needs.

Why it is safe enough for a demo and nothing more: the RSA key is generated in
memory when the demo starts and is never written, printed or logged (only its
public half and ``kid`` leave this object); the issuer identifier ends in
``/development-only`` so every token names what it is; every token carries a
``development_only`` claim; every response carries ``X-Development-Only``;
every log line starts with ``[DEVELOPMENT ONLY issuer]``.

Signing goes through ``glassgate.tokens.signing``, the one place glassgate signs JWTs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from glassgate.adapters.clock import now as system_now
from glassgate.demo._http import Request, Response
from glassgate.tokens.signing import JwtSigner
from glassgate.types import Clock

__all__ = ["DEV_ONLY_NOTICE", "ISSUER_PATH", "DevIssuer"]

log = logging.getLogger("glassgate.demo.issuer")

DEV_ONLY_NOTICE: Final = (
    "DEVELOPMENT ONLY: tokens are signed by a throwaway key generated now; "
    "never use this issuer in production"
)
#: Appended to the issuer's base URL, so ``iss`` itself says what this is.
ISSUER_PATH: Final = "/development-only"
CLIENT_ID: Final = "glassgate-demo"
_DEV_HEADER: Final = (("x-development-only", "true"),)
_PREFIX: Final = "[DEVELOPMENT ONLY issuer]"


class DevIssuer:
    """Holds one throwaway RS256 key; mints tokens and serves discovery and JWKS."""

    def __init__(
        self,
        base_url: str,
        audience: str,
        ttl: float = 3600.0,
        clock: Clock = system_now,
    ) -> None:
        if ttl <= 0:
            raise ValueError("the token lifetime must be positive")
        self.issuer = base_url.rstrip("/") + ISSUER_PATH
        self.jwks_uri = self.issuer + "/jwks.json"
        self.discovery_uri = self.issuer + "/.well-known/openid-configuration"
        self.audience = audience
        self.ttl = ttl
        path = urlsplit(self.issuer).path
        self._documents: dict[str, Callable[[], dict[str, Any]]] = {
            path + "/.well-known/openid-configuration": self.openid_configuration,
            path + "/jwks.json": self.jwks,
        }
        self._clock = clock
        self._signer = JwtSigner.generate("RS256")
        log.warning(
            "%s generated a throwaway RSA-2048 signing key (kid %s) for %s; "
            "never use this issuer in production",
            _PREFIX,
            self.kid,
            self.issuer,
        )

    def __repr__(self) -> str:
        return f"DevIssuer(issuer={self.issuer!r}, kid={self.kid!r}, key=<not shown>)"

    @property
    def kid(self) -> str:
        return self._signer.kid

    def mint(
        self,
        subject: str,
        *,
        groups: Iterable[str] = (),
        amr: Iterable[str] = ("pwd",),
        acr: str | None = None,
        auth_time: float | None = None,
    ) -> str:
        """An RFC 9068 access token for ``subject``; ``auth_time`` defaults to now."""
        now = self._clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "client_id": CLIENT_ID,
            "iat": int(now),
            "exp": int(now + self.ttl),
            "jti": uuid.uuid4().hex,
            "auth_time": int(now if auth_time is None else auth_time),
            "groups": list(groups),
            "amr": list(amr),
            "development_only": DEV_ONLY_NOTICE,
        }
        if acr is not None:
            claims["acr"] = acr
        return self._signer.sign(claims, typ="at+jwt")

    def jwks(self) -> dict[str, Any]:
        return self._signer.jwks()

    def openid_configuration(self) -> dict[str, Any]:
        """OIDC Discovery 1.0 §3 metadata: just enough for a resource server."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "development_only": DEV_ONLY_NOTICE,
        }

    def handle(self, request: Request) -> Response:
        """The issuer's HTTP side: discovery, JWKS, and a notice anywhere else."""
        if request.method not in ("GET", "HEAD"):
            return Response.json(405, {"error": "method not allowed"}, _DEV_HEADER)
        document = self._documents.get(request.path)
        if document is None:
            notice = {"error": "not found", "development_only": DEV_ONLY_NOTICE}
            return Response.json(404, notice, _DEV_HEADER)
        log.debug("%s served %s", _PREFIX, request.path)
        return Response.json(200, document(), _DEV_HEADER)
