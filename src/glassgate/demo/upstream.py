"""The demo's sample API: answers every request with what it received.

Why an echo: the point of the demo is what the gateway does to a request on
its way through, so the answer shows it directly: the ``X-Glassgate-*``
identity headers the gateway added (subject, issuer, the route's groups and
the short-lived identity JWT an upstream can verify against the gateway's
``/.well-known/jwks.json``), the ``X-Forwarded-*`` headers it set, and that
nothing the client could forge survived. The client's own credential is not
echoed back (it is the caller's secret; the upstream has no need to repeat it).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from glassgate.demo._http import Request, Response

__all__ = ["SampleUpstream"]

log = logging.getLogger("glassgate.demo.upstream")

IDENTITY_PREFIX: Final = "x-glassgate-"
_HIDDEN: Final = frozenset({"authorization", "cookie", "proxy-authorization"})


class SampleUpstream:
    """A stateless echo API; ``handle`` is the whole of it."""

    name = "glassgate demo sample upstream"

    def handle(self, request: Request) -> Response:
        identity: dict[str, str] = {}
        other: dict[str, str] = {}
        for name, value in request.headers:
            key = name.lower()
            if key.startswith(IDENTITY_PREFIX):
                identity[key] = value
            else:
                other[key] = "(present, not echoed)" if key in _HIDDEN else value
        subject = identity.get(IDENTITY_PREFIX + "subject", "-")
        log.info(
            "[demo upstream] %s %s reached the upstream as %s",
            request.method,
            request.path,
            subject,
        )
        document: dict[str, Any] = {
            "upstream": self.name,
            "message": "the gateway let this request through; this is what arrived",
            "method": request.method,
            "target": request.target,
            "identity_headers": identity,
            "other_headers": other,
            "body_bytes": len(request.body),
        }
        return Response.json(200, document)
