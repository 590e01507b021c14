"""Verified claims → ``Principal`` (RFC 9068 §2.2, OIDC Core §2, RFC 8176).

Group names, scopes and ``amr`` values are kept exactly as the issuer wrote them:
no case folding, no Unicode normalisation (NFKC would turn ``Ａdmins`` into
``Admins``), no trimming. Policy compares exact strings, so a look-alike never
passes for the real group.
"""

from __future__ import annotations

from glassgate.core.principal import CredentialKind, Principal
from glassgate.tokens.claims import (
    Claims,
    read_acr,
    read_amr,
    read_auth_time,
    read_groups,
    read_optional_string,
    read_scopes,
    read_subject,
)
from glassgate.tokens.issuers import IssuerPolicy

__all__ = ["to_principal"]


def to_principal(
    claims: Claims,
    policy: IssuerPolicy,
    fingerprint: str,
    kind: CredentialKind = CredentialKind.JWT,
) -> Principal:
    """Build the ``Principal`` from claims that ``check_claims`` already accepted.

    ``claims`` is the read-only mapping from ``parse_payload`` and is kept as is.
    """
    client_id = read_optional_string(claims, "client_id")
    okta_cid = read_optional_string(claims, "cid")
    if client_id is None:
        client_id = okta_cid
    return Principal(
        subject=read_subject(claims),
        issuer=policy.issuer,
        groups=read_groups(claims, policy),
        scopes=read_scopes(claims, policy),
        amr=read_amr(claims),
        acr=read_acr(claims),
        auth_time=read_auth_time(claims),
        expires_at=float(claims["exp"]),
        client_id=client_id,
        token_id=read_optional_string(claims, "jti"),
        token_hash=fingerprint,
        kind=kind,
        claims=claims,
    )
