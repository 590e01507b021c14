"""Where a one-time link points on the console: ``/enrol/<token>`` and ``/reset/<token>``.

The only URLs that carry a secret (SPEC C7 and the console's rule): the
token is the link, it works once, for one hour. The CLI prints them with the
console's origin (``breakglass.webauthn.origins[0]``); the console hands a
reset link to the custodian whose approval met the quorum.
"""

from __future__ import annotations

__all__ = ["LINK_PATHS", "link_path", "link_url"]

LINK_PATHS = {"enrol": "/enrol/", "reset": "/reset/"}


def link_path(purpose: str, token: str) -> str:
    return f"{LINK_PATHS[purpose]}{token}"


def link_url(origin: str, purpose: str, token: str) -> str:
    return origin.rstrip("/") + link_path(purpose, token)
