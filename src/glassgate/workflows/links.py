"""One-time links for enrolment and reset: random, stored hashed, one hour, once.

The token (32 random bytes, URL-safe) is shown once, in the link; the store
keeps its SHA-256 only, so a database reader cannot use a pending link.
Unknown, expired and used links are one error outward (``LinkInvalidError``),
with the precise reason in ``detail`` for the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum

from glassgate.errors import LinkInvalidError
from glassgate.types import Secret

__all__ = [
    "LINK_TTL",
    "IssuedLink",
    "LinkPurpose",
    "OneTimeLink",
    "check_usable",
    "issue_link",
    "link_digest",
    "link_url",
    "redeem",
    "retire_link",
]

LINK_TTL = 3600.0
_TOKEN_BYTES = 32
_MAX_TOKEN_CHARS = 128


class LinkPurpose(StrEnum):
    ENROL = "enrol"
    RESET = "reset"


def link_url(origin: str, purpose: str, token: str) -> str:
    """Where a link points: ``<console origin>/enrol/<token>`` or ``.../reset/<token>``.

    The only URLs that carry a secret (the token is the link); the console
    serves both paths, the CLI prints them, the console hands a reset link
    to the custodian whose approval met the quorum.
    """
    return f"{origin.rstrip('/')}/{LinkPurpose(purpose).value}/{token}"


@dataclass(frozen=True, slots=True)
class OneTimeLink:
    digest: str  # SHA-256 hex of the token: the store's key
    purpose: LinkPurpose
    identity: str  # LocalIdentity.ref
    created_at: float
    expires_at: float
    used_at: float | None = None
    request_id: str | None = None  # the approved reset request, for RESET links


@dataclass(frozen=True, slots=True)
class IssuedLink:
    token: Secret  # shown once (in the link), never stored
    link: OneTimeLink


def link_digest(token: str) -> str:
    """The stored form; an oversized token is hashed too (it simply matches nothing)."""
    return hashlib.sha256(token[:_MAX_TOKEN_CHARS].encode("utf-8", "replace")).hexdigest()


def issue_link(
    purpose: LinkPurpose,
    identity: str,
    now: float,
    *,
    ttl: float = LINK_TTL,
    request_id: str | None = None,
) -> IssuedLink:
    if not 0 < ttl <= LINK_TTL:
        raise ValueError("a one-time link lives at most one hour")
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    link = OneTimeLink(link_digest(token), purpose, identity, now, now + ttl, None, request_id)
    return IssuedLink(Secret(token), link)


def check_usable(
    link: OneTimeLink | None, token: str, purpose: LinkPurpose, now: float
) -> OneTimeLink:
    """The link for ``token`` if it can still be used for ``purpose``; else ``LinkInvalidError``."""
    if link is None or not hmac.compare_digest(link.digest, link_digest(token)):
        raise LinkInvalidError("link-unknown")
    if link.purpose is not purpose:
        raise LinkInvalidError("link-wrong-purpose")
    if link.used_at is not None:
        raise LinkInvalidError("link-used")
    if now >= link.expires_at:
        raise LinkInvalidError("link-expired")
    return link


def redeem(link: OneTimeLink | None, token: str, purpose: LinkPurpose, now: float) -> OneTimeLink:
    """The link marked used; it never works again."""
    usable = check_usable(link, token, purpose, now)
    return replace(usable, used_at=now)


def retire_link(link: OneTimeLink, now: float) -> OneTimeLink:
    """An unused link withdrawn (a newer one replaces it); it never works again."""
    if link.used_at is not None:
        return link
    return replace(link, used_at=now)
