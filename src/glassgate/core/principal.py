"""Principal: who is calling, as established by a verified credential."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = ["CredentialKind", "Principal", "token_fingerprint"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def token_fingerprint(raw: str | bytes) -> str:
    """What glassgate keeps of a credential: its SHA-256, hex. Never the credential.

    The one fingerprint: ``Principal.token_hash``, audit records, and the keys of
    the verified-token and introspection caches all use it, so a request's
    decision record and an ``admin.apikey.*`` record name the same key alike.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return hashlib.sha256(data).hexdigest()


class CredentialKind(StrEnum):
    JWT = "jwt"
    OPAQUE = "opaque"
    API_KEY = "api_key"
    BREAKGLASS = "breakglass"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller. Built only by ``glassgate.tokens`` (or API keys / break-glass).

    ``token_hash`` (``token_fingerprint`` of the raw credential) and ``token_id`` (``jti``)
    are what audit records keep; the raw token is never stored.
    """

    subject: str
    issuer: str
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    amr: frozenset[str] = frozenset()
    acr: str | None = None
    auth_time: int | None = None
    expires_at: float | None = None
    client_id: str | None = None
    token_id: str | None = None
    token_hash: str = ""
    kind: CredentialKind = CredentialKind.JWT
    claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False, repr=False)
    quota_tier: str | None = None
    # Machine credentials (API keys) may be limited to some routes; None: no limit.
    route_scope: frozenset[str] | None = None
    # Just-in-time grants whose groups were added (``workflows.grant_groups``): their ids,
    # so the audit record of every request made with them names them.
    grants: tuple[str, ...] = ()
