"""JWT claims: strict parsing and the registered-claim checks (RFC 7519 §4.1, RFC 9068 §2.2, §4).

The payload is parsed strictly (RFC 7519 §4 and RFC 8259): UTF-8 only, a JSON
object at the top, no duplicate names (RFC 7519 §4 lets parsers reject them, and
we do), no ``NaN``/``Infinity`` and no number that overflows to infinity, no
unpaired UTF-16 surrogate. Arrays come back as tuples and objects as read-only
mappings, so a verified claim set can be cached and shared without copies.

Every check raises a ``TokenError`` subclass; a wrong type is a ``ClaimError``,
never a silent "absent". Time checks take ``now`` and the issuer's leeway.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from glassgate.errors import (
    AudienceMismatchError,
    ClaimError,
    TokenExpiredError,
    TokenMalformedError,
    TokenNotYetValidError,
    UntrustedIssuerError,
)
from glassgate.tokens.headers import show
from glassgate.tokens.issuers import MISSING, ClaimPath, IssuerPolicy

__all__ = [
    "Claims",
    "check_claims",
    "is_number",
    "parse_payload",
    "read_acr",
    "read_amr",
    "read_auth_time",
    "read_groups",
    "read_optional_string",
    "read_scopes",
    "read_subject",
]

Claims = Mapping[str, Any]


_ONLY_STR: Final = frozenset({str})
_EMPTY: Final[frozenset[str]] = frozenset()
_EMPTY_NAME: Final = frozenset({""})
#: 2**53 seconds: beyond any real date, and every such int converts to a float.
_MAX_NUMERIC_DATE: Final = 2**53


def _first_duplicate(pairs: list[tuple[str, Any]]) -> str:
    """A name that appears more than once; called only once a repeat is known to exist."""
    counts = Counter(name for name, _ in pairs)
    return next(name for name, _ in pairs if counts[name] > 1)


def _freeze_array(values: list[Any]) -> tuple[Any, ...]:
    if list in map(type, values):
        return tuple(_freeze_array(v) if type(v) is list else v for v in values)
    return tuple(values)


def _object(pairs: list[tuple[str, Any]]) -> Mapping[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # Raised through json.loads, which passes a hook's exceptions on unchanged.
        raise TokenMalformedError(f"the claims repeat the name {show(_first_duplicate(pairs))}")
    if list in map(type, obj.values()):
        for name, value in obj.items():
            if type(value) is list:
                obj[name] = _freeze_array(value)
    return MappingProxyType(obj)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_object, parse_constant=_no_constant, parse_float=_finite_float
)
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _check_encodable(value: Any) -> None:
    """Unpaired surrogates (``"\\ud800"``) parse but cannot be encoded as UTF-8
    later (headers, audit); refuse the token instead of failing downstream."""
    if type(value) is str:
        value.encode("utf-8")
    elif type(value) is tuple:
        for item in value:
            _check_encodable(item)
    elif isinstance(value, Mapping):
        for name, item in value.items():
            name.encode("utf-8")
            _check_encodable(item)


def parse_payload(payload: bytes) -> Claims:
    """Parse the JWS payload into a read-only claim set, or raise ``TokenMalformedError``."""
    try:
        text = payload.decode("utf-8")
        claims = _DECODER.decode(text)
        if "\\u" in text and _SURROGATE_ESCAPE.search(text):
            _check_encodable(claims)
    except UnicodeError as exc:
        raise TokenMalformedError("the claims are not valid UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise TokenMalformedError("the claims are not valid JSON") from exc
    if type(claims) is not MappingProxyType:
        raise TokenMalformedError("the claims are not a JSON object")
    return claims


def is_number(value: object) -> bool:
    """A JSON number: ``int`` or ``float``, never ``bool`` (RFC 7519 §2 NumericDate)."""
    kind = type(value)
    return kind is int or kind is float


def _numeric_date(claims: Claims, name: str) -> Any:
    value = claims.get(name, MISSING)
    if value is MISSING:
        return value
    if not is_number(value):
        raise ClaimError(f"{name!r} must be a JSON number, not {_json_type(value)}")
    if not -_MAX_NUMERIC_DATE <= value <= _MAX_NUMERIC_DATE:
        raise ClaimError(f"{name!r} is out of range for a NumericDate")
    return value


def check_claims(claims: Claims, policy: IssuerPolicy, now: float) -> None:
    """The registered claims: ``iss`` (exact), ``aud``, ``exp``, ``nbf``, ``iat``,
    and the type of ``auth_time`` (RFC 7519 §4.1.1-4.1.6, RFC 9068 §4)."""
    iss = claims.get("iss")
    if type(iss) is not str or iss != policy.issuer:
        raise UntrustedIssuerError(f"'iss' is not the issuer {policy.id!r} (exact match)")
    _check_audience(claims.get("aud", MISSING), policy)
    exp = _numeric_date(claims, "exp")
    if exp is MISSING:
        raise ClaimError("'exp' is required (RFC 9068 §2.2)")
    leeway = policy.leeway
    if now - leeway >= exp:
        raise TokenExpiredError(f"the token expired {now - exp:.0f}s ago")
    nbf = _numeric_date(claims, "nbf")
    if nbf is not MISSING and nbf > now + leeway:
        raise TokenNotYetValidError(f"'nbf' is {nbf - now:.0f}s in the future")
    iat = _numeric_date(claims, "iat")
    if iat is not MISSING and iat > now + leeway:
        raise TokenNotYetValidError(f"'iat' is {iat - now:.0f}s in the future")
    _numeric_date(claims, "auth_time")


def _check_audience(aud: Any, policy: IssuerPolicy) -> None:
    """RFC 7519 §4.1.3: a string or an array of strings, one of which must be a
    configured audience, compared as exact strings."""
    if type(aud) is str:
        if aud in policy.audiences:
            return
    elif type(aud) is tuple:
        if not _ONLY_STR.issuperset(map(type, aud)):
            raise ClaimError("'aud' must be a string or an array of strings")
        if not policy.audiences.isdisjoint(aud):
            return
    elif aud is MISSING:
        raise ClaimError("'aud' is required (RFC 9068 §2.2)")
    else:
        raise ClaimError(f"'aud' must be a string or an array of strings, not {_json_type(aud)}")
    raise AudienceMismatchError(f"'aud' does not name an audience of issuer {policy.id!r}")


def _string_set(value: Any, name: str) -> frozenset[str]:
    if type(value) is not tuple or not _ONLY_STR.issuperset(map(type, value)):
        raise ClaimError(f"{name!r} must be an array of strings")
    return frozenset(value)


def _at(path: ClaimPath, claims: Claims) -> Any:
    value = claims.get(path.name, MISSING)
    if value is not MISSING or len(path.parts) == 1:
        return value
    try:
        return path.find(claims)
    except TypeError as exc:
        raise ClaimError(f"{path.name!r} cannot be read: {exc}") from exc


RESERVED_GROUP_PREFIX = "grant:"  # glassgate's own narrowed grant groups (config.grants)


def read_groups(claims: Claims, policy: IssuerPolicy) -> frozenset[str]:
    """Groups at the issuer's configured path: an array of strings, kept verbatim
    (no case folding, no Unicode normalisation, no trimming), but for names with
    the reserved ``grant:`` prefix: only an approved grant gives those, never a token."""
    value = _at(policy.groups, claims)
    if value is MISSING:
        return _EMPTY
    groups = _string_set(value, policy.groups.name)
    if any(group.startswith(RESERVED_GROUP_PREFIX) for group in groups):
        return frozenset(g for g in groups if not g.startswith(RESERVED_GROUP_PREFIX))
    return groups


def read_scopes(claims: Claims, policy: IssuerPolicy) -> frozenset[str]:
    """Scopes from ``scp`` (an array, or Okta-style a space-separated string) and
    ``scope`` (RFC 9068 §2.2.3, RFC 8693 §4.2: space-separated)."""
    scopes = _EMPTY
    listed = _at(policy.scopes, claims)
    if type(listed) is str:
        scopes = _split_scope(listed)
    elif listed is not MISSING:
        scopes = _string_set(listed, policy.scopes.name)
    spaced = _at(policy.scope_string, claims)
    if spaced is not MISSING:
        if type(spaced) is not str:
            raise ClaimError(f"{policy.scope_string.name!r} must be a space-separated string")
        scopes = scopes | _split_scope(spaced)
    return scopes


def _split_scope(value: str) -> frozenset[str]:
    """RFC 6749 §3.3: scope tokens separated by single spaces (only spaces)."""
    return frozenset(value.split(" ")) - _EMPTY_NAME


def read_amr(claims: Claims) -> frozenset[str]:
    """``amr``: an array of strings (OIDC Core §2, RFC 8176)."""
    value = claims.get("amr", MISSING)
    return _EMPTY if value is MISSING else _string_set(value, "amr")


def read_acr(claims: Claims) -> str | None:
    """``acr``: a string (OIDC Core §2)."""
    return read_optional_string(claims, "acr")


def read_auth_time(claims: Claims) -> int | None:
    """``auth_time``: a NumericDate, rounded down to whole seconds (which can
    only make an authentication look older, never fresher)."""
    value = _numeric_date(claims, "auth_time")
    return None if value is MISSING else math.floor(value)


def read_optional_string(claims: Claims, name: str) -> str | None:
    """A claim that must be a string when present (``sub``, ``jti``, ``acr`` ...)."""
    value = claims.get(name, MISSING)
    if type(value) is str:
        return value
    if value is MISSING:
        return None
    raise ClaimError(f"{name!r} must be a string, not {_json_type(value)}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is tuple:
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def read_subject(claims: Claims) -> str:
    """``sub`` (RFC 9068 §2.2); a token without one falls back to its client
    (``client_id``, or Okta's ``cid``), and with neither it names nobody."""
    subject = read_optional_string(claims, "sub")
    if subject is None:
        subject = read_optional_string(claims, "client_id")
    if subject is None:
        subject = read_optional_string(claims, "cid")
    if subject is None:
        raise ClaimError("the token names no subject: no 'sub', 'client_id' or 'cid'")
    return subject
