"""HAZMAT: the only door to the JOSE library. Read this before you change anything here.

Everything that touches ``joserfc`` lives in this module, and only
``glassgate.tokens`` may import it. A change here can turn every token check into
a pass, so a change needs a second reviewer. The rules it keeps:

- never parse or verify a JWS by hand: ``extract`` is ``jws.extract_compact`` and
  ``verify_signature`` is ``jws.validate_compact`` (RFC 7515 §5.2);
- verification uses a registry that allows exactly one algorithm, the one the
  caller has already screened against the issuer's allow-list (RFC 8725 §3.1);
- the key always comes from the caller (the configured JWKS); the header's
  ``jku``/``x5u``/``jwk``/``x5c`` are never read here (RFC 8725 §3.10);
- every ``joserfc`` exception is translated into a ``TokenError`` subclass with
  ``raise ... from exc``, and no message ever contains the token or a signature.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwk as _jwk
from joserfc import jws as _jws
from joserfc.errors import (
    ExceededSizeError,
    InvalidHeaderValueError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    JoseError,
    KeyParameterError,
    MissingAlgorithmError,
    MissingCritHeaderError,
    MissingHeaderError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.errors import UnsupportedHeaderError as _JoseUnsupportedHeaderError
from joserfc.jwa import JWSAlgModel
from joserfc.registry import JWS_HEADER_REGISTRY
from joserfc.util import json_b64decode

from glassgate.errors import (
    DisallowedAlgorithmError,
    KeyMismatchError,
    SignatureInvalidError,
    TokenError,
    TokenMalformedError,
    UnsupportedHeaderError,
)

__all__ = [
    "VERIFY_ALGORITHMS",
    "JoseKey",
    "KeyFacts",
    "Signed",
    "extract",
    "import_jwk",
    "verify_signature",
]

#: The only algorithms this module will ever verify with (RFC 8725 §3.1).
VERIFY_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")

#: Opaque handles: callers pass them back, never look inside.
Signed = _jws.CompactSignature
JoseKey = _jwk.Key


_CHECKED_MEMBERS = ("alg", "kid", "typ", "crit", "b64")


class _ExtractRegistry(_jws.JWSRegistry):
    """Size caps that suit a token of at most 16 KiB (joserfc's defaults cap the
    header at 512 bytes, too small for an ``x5c`` chain we then ignore)."""

    max_header_length = 8 * 1024
    max_payload_length = 22 * 1024
    max_signature_length = 2 * 1024


class _ExactRegistry(_ExtractRegistry):
    """A registry that allows exactly one algorithm.

    ``get_alg`` is overridden only to skip joserfc's per-call ``SecurityWarning``
    for ``EdDSA`` (RFC 9864 prefers ``Ed25519``): the issuer's configuration is
    where that choice is made and warned about, not every request.
    """

    def __init__(self, alg: str) -> None:
        super().__init__(algorithms=(alg,), strict_check_header=False)
        # Only the members we act on are type-checked here; headers.py has already
        # refused crit/b64, and jku/x5u/jwk/x5c are ignored whatever they hold.
        self.header_registry = {name: JWS_HEADER_REGISTRY[name] for name in _CHECKED_MEMBERS}
        self._alg = alg
        self._model = _jws.JWSRegistry.algorithms[alg]

    def get_alg(self, name: str) -> JWSAlgModel:
        if name != self._alg:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self._model


_EXTRACT = _ExtractRegistry(strict_check_header=False)
_VERIFY = {alg: _ExactRegistry(alg) for alg in VERIFY_ALGORITHMS}

_KEY_ERRORS = (KeyParameterError, InvalidKeyCurveError)
_HEADER_ERRORS = (
    MissingCritHeaderError,
    _JoseUnsupportedHeaderError,
    InvalidHeaderValueError,
    MissingHeaderError,
)


def extract(raw: bytes) -> tuple[dict[str, Any], bytes, Signed]:
    """Split a compact JWS into (protected header, payload bytes, opaque handle).

    Nothing is verified yet: the caller screens the header, finds the key, then
    calls ``verify_signature`` with the handle.
    """
    try:
        obj = _jws.extract_compact(raw, registry=_EXTRACT)
    except MissingCritHeaderError as exc:
        raise UnsupportedHeaderError("the JWS header uses 'b64' without 'crit'") from exc
    except MissingAlgorithmError as exc:
        raise _missing_alg(raw) from exc
    except ExceededSizeError as exc:
        raise TokenMalformedError("a JWS segment exceeds its size limit") from exc
    except JoseError as exc:
        raise TokenMalformedError(f"not a compact JWS: {exc.error}") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise TokenMalformedError("not a compact JWS: undecodable segment") from exc
    header = obj.protected
    if type(header) is not dict:
        raise TokenMalformedError("the JWS header is not a JSON object")
    return header, obj.payload, obj


def _missing_alg(raw: bytes) -> TokenError:
    """joserfc says "no alg" both for an object without ``alg`` and for a header
    that is not an object at all (``[]``, ``"x"``); tell the two apart."""
    try:
        header = json_b64decode(raw.split(b".", 1)[0])
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - joserfc decoded it
        header = None
    if type(header) is dict:
        return DisallowedAlgorithmError("the JWS header has no 'alg'")
    return TokenMalformedError("the JWS header is not a JSON object")


def verify_signature(obj: Signed, key: JoseKey, alg: str) -> None:
    """Verify ``obj``'s signature with ``key`` under exactly ``alg``, or raise.

    RFC 7515 §5.2 step 8: the signature must verify with the key and algorithm
    the caller chose; joserfc also refuses a key whose type does not fit ``alg``.
    """
    registry = _VERIFY.get(alg)
    if registry is None:
        raise DisallowedAlgorithmError(f"algorithm {alg!r} is never verified")
    try:
        valid = _jws.validate_compact(obj, key, registry=registry)
    except UnsupportedAlgorithmError as exc:
        raise DisallowedAlgorithmError(f"algorithm {alg!r} does not match the header") from exc
    except _KEY_ERRORS as exc:
        raise KeyMismatchError(f"the key does not fit {alg}: {exc.error}") from exc
    except _HEADER_ERRORS as exc:
        raise UnsupportedHeaderError(f"the JWS header is not acceptable: {exc.error}") from exc
    except JoseError as exc:
        raise SignatureInvalidError(f"the signature does not verify: {exc.error}") from exc
    except (ValueError, TypeError) as exc:
        raise SignatureInvalidError("the signature does not verify") from exc
    if not valid:
        raise SignatureInvalidError(f"the {alg} signature does not verify")


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What a verifier needs to know about a public key (RFC 7517 §4)."""

    kty: str
    crv: str | None
    bits: int | None
    alg: str | None
    use: str | None
    key_ops: tuple[str, ...] | None
    thumbprint: str


# Public members only (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2); a private part
# published by mistake is dropped rather than loaded.
_PUBLIC_MEMBERS = {
    "RSA": ("n", "e"),
    "EC": ("crv", "x", "y"),
    "OKP": ("crv", "x"),
}
_COMMON_MEMBERS = ("kty", "kid", "alg", "use", "key_ops")


def import_jwk(data: Mapping[str, Any]) -> tuple[JoseKey, KeyFacts]:
    """Import the public part of one JWK, or raise ``KeyMismatchError``.

    Symmetric (``oct``) keys are refused outright: a JWKS never carries a secret
    we should verify with (the HMAC-with-public-key confusion, RFC 8725 §2.1).
    """
    kty = data.get("kty")
    members = _PUBLIC_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise KeyMismatchError(f"unsupported key type {kty!r}")
    public = {name: data[name] for name in (*_COMMON_MEMBERS, *members) if name in data}
    try:
        with warnings.catch_warnings():
            # RSA keys under 2048 bits warn on import; the key ring refuses them.
            warnings.simplefilter("ignore", SecurityWarning)
            key = _jwk.JWKRegistry.import_key(public)
        facts = _facts(key)
    except InvalidKeyTypeError as exc:
        raise KeyMismatchError(f"unsupported key type {kty!r}") from exc
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise KeyMismatchError(f"the {kty} key cannot be imported") from exc
    return key, facts


def _facts(key: JoseKey) -> KeyFacts:
    kty = key.key_type
    crv = key.curve_name if isinstance(key, _jwk.ECKey | _jwk.OKPKey) else None
    bits = key.raw_value.key_size if isinstance(key, _jwk.RSAKey) else None
    alg, use, ops = key.get("alg"), key.get("use"), key.get("key_ops")
    if alg is not None and not isinstance(alg, str):
        raise TypeError("alg")
    if use is not None and not isinstance(use, str):
        raise TypeError("use")
    key_ops = tuple(str(op) for op in ops) if isinstance(ops, list) else None
    if ops is not None and key_ops is None:
        raise TypeError("key_ops")
    return KeyFacts(kty, crv, bits, alg, use, key_ops, key.thumbprint())
