"""ID tokens of the console's IdP sign-in: the gate's checks plus nonce, azp and typ.

Attacks: another client's ID token (``aud``), ``alg`` confusion (``none``, HMAC
signed with the public key), a nonce from another sign-in, an access token
passed off as an ID token, a forged signature, an untrusted issuer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from glassgate.errors import ClaimError, TokenError
from glassgate.tokens.id_tokens import IdTokenVerifier
from tests.support.tokens import (
    ISSUER,
    NOW,
    forge,
    hmac_signature,
    policy,
    public_jwk,
    rings,
    segment,
)

CLIENT = "console"
NONCE = "n-0S6_WzA2Mj"


def claims(**over: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "alice",
        "iat": NOW - 5,
        "exp": NOW + 600,
        "auth_time": NOW - 5,
        "nonce": NONCE,
        "groups": ["Engineers"],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def id_token(header: dict[str, Any] | None = None, key: str | None = "rsa-1", **over: Any) -> str:
    return forge(header or {"alg": "RS256", "kid": "rsa-1"}, claims(**over), key)


VERIFIER = IdTokenVerifier(policy(), CLIENT)


def verify(raw: str, nonce: str = NONCE) -> Any:
    return VERIFIER.verify(raw, rings(), NOW, nonce)


def test_a_good_id_token_gives_the_signed_in_user() -> None:
    principal = verify(id_token())
    assert principal.subject == "alice"
    assert principal.groups == {"Engineers"}
    assert principal.auth_time == NOW - 5


def test_azp_naming_this_client_is_fine() -> None:
    assert verify(id_token(aud=[CLIENT, "other"], azp=CLIENT)).subject == "alice"


def _hmac_with_public_key() -> str:
    header = {"alg": "HS256", "kid": "rsa-1"}
    signing_input = f"{segment(header)}.{segment(claims())}"
    secret = json.dumps(public_jwk("rsa-1")).encode()
    return f"{signing_input}.{hmac_signature(signing_input, secret)}"


@pytest.mark.parametrize(
    ("raw", "nonce", "error"),
    [
        pytest.param(id_token(aud="console-other"), NONCE, TokenError, id="case=another-client"),
        pytest.param(id_token(aud=[CLIENT, "x"]), NONCE, ClaimError, id="case=several-aud-no-azp"),
        pytest.param(id_token(azp="console-other"), NONCE, ClaimError, id="case=azp-other"),
        pytest.param(id_token(), "another-sign-in", ClaimError, id="case=nonce-mismatch"),
        pytest.param(id_token(nonce=None), NONCE, ClaimError, id="case=nonce-missing"),
        pytest.param(
            id_token({"alg": "none", "kid": "rsa-1"}, key=None), NONCE, TokenError,
            id="case=alg-none",
        ),
        pytest.param(_hmac_with_public_key(), NONCE, TokenError, id="case=alg-hmac-public-key"),
        pytest.param(
            id_token({"alg": "RS256", "kid": "rsa-1"}, key="rsa-2"), NONCE, TokenError,
            id="case=forged-signature",
        ),
        pytest.param(
            id_token({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}), NONCE, ClaimError,
            id="case=access-token-as-id-token",
        ),
        pytest.param(id_token(iss="https://evil.example"), NONCE, TokenError, id="case=issuer"),
        pytest.param(id_token(exp=NOW - 3600), NONCE, TokenError, id="case=expired"),
        pytest.param("ünïcode.x.y", NONCE, TokenError, id="case=not-ascii"),
    ],
)  # fmt: skip
def test_attacks_are_refused(raw: str, nonce: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        verify(raw, nonce)


def test_a_token_never_carries_a_grant_group() -> None:
    principal = verify(id_token(groups=["Engineers", "grant:payments-access"]))
    assert principal.groups == {"Engineers"}
