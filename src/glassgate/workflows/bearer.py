"""Bearer tokens of local sessions: ``<prefix><id>_<secret>``, only a digest stored.

Break-glass sessions (``ggbg_``) and console sign-ins (``ggcs_``) share this
form: a 16-hex-character id to find the record, and 32 random bytes whose
SHA-256 is all the store keeps, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from glassgate.types import Secret

__all__ = ["MintedToken", "digest_matches", "mint", "parse"]

ID_CHARS = 16
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True, slots=True)
class MintedToken:
    id: str
    digest: str  # what the record keeps
    token: Secret  # what the holder gets, once


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mint(prefix: str) -> MintedToken:
    token_id = secrets.token_hex(ID_CHARS // 2)
    secret = secrets.token_urlsafe(32)
    return MintedToken(token_id, _digest(secret), Secret(f"{prefix}{token_id}_{secret}"))


def parse(prefix: str, raw: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed token with ``prefix`` (any case), else None."""
    if raw[: len(prefix)].lower() != prefix or len(raw) > MAX_TOKEN_CHARS:
        return None
    token_id, sep, secret = raw[len(prefix) :].partition("_")
    if not sep or len(token_id) != ID_CHARS or not token_id.isalnum() or not secret:
        return None
    return token_id, secret


def digest_matches(digest: str, secret: str) -> bool:
    return hmac.compare_digest(digest, _digest(secret))
