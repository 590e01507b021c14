"""``glassgate demo``: the gateway, a development-only token issuer and a sample API
in one process, so a first-time user sees allow, deny, step-up and rate limiting
work within a minute, without an identity provider of their own.

Nothing here is for production. The issuer's signing key is generated when the
demo starts and dies with the process; every token, log line and document it
produces says so. The gateway itself is the real one (the same ``GatewayApp``,
config loader and policy engine that ``glassgate serve`` runs).
"""

from __future__ import annotations

__all__: list[str] = []
