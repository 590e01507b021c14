"""A signing key, its JWKS and a pool of distinct RS256 access tokens.

The tokens look like Okta custom-authorization-server access tokens. Every
token is distinct (own ``jti``); ``subjects`` callers share the pool, so a
caller holds several live tokens, as real clients refreshing tokens do. All
members are Admins and Analysts with ``amr: [pwd, mfa, hwk]`` and a fresh
``auth_time``: every request is allowed by the step-up route too.
Signing uses ``cryptography`` directly (the pool is test data, not product).
"""

from __future__ import annotations

import base64
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["AUDIENCE", "ISSUER", "TokenPool", "make_pool"]

ISSUER = "https://idp.bench.example/oauth2/default"
AUDIENCE = "api://gateway"
KID = "bench-rsa-1"
LIFETIME = 4 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True, slots=True)
class TokenPool:
    tokens: tuple[str, ...]
    jwks: bytes
    issued_at: int


def _sign_batch(pem: bytes, start: int, count: int, subjects: int, now: int) -> list[str]:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    header = _b64(json.dumps({"alg": "RS256", "kid": KID, "typ": "at+jwt"}).encode())
    out = []
    for index in range(start, start + count):
        claims = {
            "ver": 1,
            "jti": f"AT.bench{index:08d}",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + LIFETIME,
            "cid": "0oabenchclient",
            "uid": f"00u{index % subjects:08d}",
            "sub": f"user{index % subjects:05d}@bench.example",
            "scp": ["openid", "profile", "reports.read"],
            "auth_time": now,
            "amr": ["pwd", "mfa", "hwk"],
            "groups": ["Everyone", "Analysts", "Admins"],
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        out.append(f"{header}.{payload}.{_b64(signature)}")
    return out


def make_pool(count: int, subjects: int) -> TokenPool:
    """``count`` distinct tokens for ``subjects`` callers, signed on every core."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256"}
    jwks = json.dumps({"keys": [{**jwk, "n": _uint(numbers.n), "e": _uint(numbers.e)}]})
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    now = int(time.time())
    workers = max(1, os.cpu_count() or 1)
    size = (count + workers - 1) // workers
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(_sign_batch, pem, start, min(size, count - start), subjects, now)
            for start in range(0, count, size)
        ]
        tokens = [token for future in futures for token in future.result()]
    return TokenPool(tuple(tokens), jwks.encode(), now)
