"""The public surfaces of glassgate.tokens and glassgate.adapters.idp are pinned."""

from __future__ import annotations

import glassgate.adapters.idp as idp
import glassgate.tokens as tokens


def test_tokens_exports() -> None:
    assert set(tokens.__all__) == {
        "SAFE_ALGORITHMS",
        "CachedToken",
        "ClaimPath",
        "IssuerPolicy",
        "KeyRing",
        "SigningKey",
        "TokenVerifier",
        "VerifiedTokenCache",
        "parse_jwks",
        "to_principal",
    }
    for name in tokens.__all__:
        assert getattr(tokens, name) is not None
    assert "_jose" not in tokens.__all__


def test_idp_exports() -> None:
    assert set(idp.__all__) == {
        "Authenticator",
        "IntrospectionClient",
        "JwksKeySource",
        "JwksSettings",
        "ProviderMetadata",
        "build_authenticator",
        "discover",
    }
    for name in idp.__all__:
        assert getattr(idp, name) is not None


def test_package_docstrings_say_what_they_are_for() -> None:
    assert "pure" in (tokens.__doc__ or "")
    assert "httpx" in (idp.__doc__ or "")
