"""Verifications per second for glassgate.tokens.TokenVerifier (not a test).

    .venv/bin/python bench/bench_tokens.py [--seconds 2]

Prints RS256 and ES256 verifications per second on one core: joserfc's own
compact verify as a reference (signature only, no claims), then TokenVerifier
uncached and cached. Keys are generated on the fly; the token looks like an
Okta access token. Other load on the machine shows in every line alike.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from joserfc import jwk, jws

from glassgate.tokens import IssuerPolicy, KeyRing, SigningKey, TokenVerifier, VerifiedTokenCache

ISSUER = "https://idp.example.com/oauth2/default"
NOW = 1_800_000_000


def _token(key: jwk.Key, alg: str, kid: str) -> str:
    claims = {
        "iss": ISSUER,
        "aud": "api://gateway",
        "sub": "00u1abcdEFGH",
        "cid": "0oa1client",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "auth_time": NOW - 120,
        "jti": "AT.abcdefghijklmnop",
        "scp": ["openid", "profile", "read"],
        "groups": ["Admins", "Analysts", "Everyone"],
        "amr": ["pwd", "mfa", "hwk"],
        "acr": "urn:example:loa:2fa",
    }
    header = {"alg": alg, "kid": kid, "typ": "at+jwt"}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def _rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls per second of wall time (perf_counter) and of this process's CPU time.

    The second number is what one core delivers even while other processes
    compete for the machine; on an idle machine the two agree.
    """
    count, start, cpu_start = 0, time.perf_counter(), time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            cpu = max(time.process_time() - cpu_start, 1e-9)
            return count / (now - start), count / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    rsa = jwk.RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
    ec = jwk.ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
    keys = tuple(SigningKey.from_jwk(k.as_dict(private=False)) for k in (rsa, ec))
    ring = KeyRing("okta", keys, last_success=NOW)
    rings = {"okta": ring}
    policy = IssuerPolicy(
        "okta", ISSUER, frozenset({"api://gateway"}), frozenset({"RS256", "ES256"}), 30.0, True
    )
    for alg, key, kid in (("RS256", rsa, "rsa-1"), ("ES256", ec, "ec-1")):
        token = _token(key, alg, kid)
        plain = TokenVerifier([policy])
        cached = TokenVerifier([policy], cache=VerifiedTokenCache(1000))
        plain.verify(token, rings, NOW)
        cached.verify(token, rings, NOW)
        public = jwk.JWKRegistry.import_key(key.as_dict(private=False))
        rows = {
            "joserfc deserialize_compact alone (reference)": _rate(
                lambda t=token, k=public, a=alg: jws.deserialize_compact(t, k, algorithms=[a]),
                args.seconds,
            ),
            "TokenVerifier uncached": _rate(
                lambda t=token, v=plain: v.verify(t, rings, NOW), args.seconds
            ),
            "TokenVerifier cached": _rate(
                lambda t=token, v=cached: v.verify(t, rings, NOW), args.seconds
            ),
        }
        for label, (wall, cpu) in rows.items():
            print(f"{alg} {label:<46} {wall:>10,.0f}/s wall  {cpu:>10,.0f}/s per CPU-second")


if __name__ == "__main__":
    main()
