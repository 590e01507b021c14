"""Screening: no token, password or secret ever enters an audit record (SPEC C8).

Keys of ``details`` are checked against a deny-list (after lower-casing and
dropping ``-`` and ``_``), and every string value, anywhere, is searched for
bearer credentials and JWTs. A hit is a ``ValueError`` at construction: it is
a programming error, and tests must catch it before production does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any, Final, cast

__all__ = ["check_json", "check_text", "is_clean", "plain", "redact_text"]

# Key fragments that name secrets; matched after lower-casing and dropping - and _.
_DENIED_KEY_PARTS = re.compile(
    "password|passwd|passphrase|secret|token|authorization|cookie|apikey|privatekey"
    "|credential|assertion|signature"
)
_ALLOWED_KEYS: Final = frozenset({"tokenhash", "tokentype", "tokenkind", "tokenfingerprint"})
# A JWT / JWS compact serialisation, a glassgate API key (``tokens.api_keys``), or an
# HTTP credential, inside any string value.
_SECRET_VALUE = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.|gg_[a-z2-7]{12}_[A-Za-z0-9_-]{20,}"
    r"|\b(?:bearer|basic)\s+\S{8,}",
    re.I,
)
_MASK: Final = "[redacted]"
_MAX_PASSES: Final = 4


@functools.lru_cache(maxsize=4096)
def _is_denied_key(key: str) -> bool:
    """Cached: the same few detail keys come with every request."""
    norm = key.lower().replace("-", "").replace("_", "")
    return norm not in _ALLOWED_KEYS and _DENIED_KEY_PARTS.search(norm) is not None


def _check_key(key: object, where: str) -> None:
    if not isinstance(key, str):
        raise ValueError(f"audit details key at {where} must be a string")
    if _is_denied_key(key):
        raise ValueError(
            f"audit details key '{key}' at {where} is not allowed: records never carry "
            "secrets; record a fingerprint (token_hash) or an id instead"
        )


def check_text(value: str, where: str) -> None:
    """Refuse a string that carries a JWT or an HTTP credential."""
    if _SECRET_VALUE.search(value):
        raise ValueError(
            f"audit value at {where} looks like a token or credential; "
            "record token_fingerprint(token) instead"
        )


def is_clean(text: str) -> bool:
    """True when ``text`` holds nothing credential-shaped (one regex search).

    Texts joined with a newline are clean together only if each is clean
    (a match inside one is a match in the whole), so callers check several
    at once and clean them one by one only on a hit.
    """
    return _SECRET_VALUE.search(text) is None


def redact_text(value: str, limit: int = 512) -> str:
    """Client-controlled text made safe to record: credentials masked, length capped.

    Values a client chooses (a path, a header) must never make an audit event
    fail, so they are cleaned here instead of refused by ``check_text``. The
    result is a fixed point of the screen: masking can leave a scheme word in
    front of the mask (``basic bearer xxxxxxxx`` -> ``basic [redacted]``) and
    the ``...`` of a cut can complete a credential, so both are screened again.
    """
    cleaned = _redacted(value)
    if len(cleaned) > limit:
        cleaned = _redacted(cleaned[: limit - 3] + "...")
    return cleaned


def _redacted(value: str) -> str:
    """Mask credentials until none is left; bounded work whatever the input.

    Every match is longer than the mask, so each pass shortens the text. A
    hostile value that still matches after a few passes (nested scheme words)
    becomes the mask alone instead of costing a pass per word.
    """
    for _ in range(_MAX_PASSES):
        if _SECRET_VALUE.search(value) is None:
            return value
        value = _SECRET_VALUE.sub(_MASK, value)
    return value if _SECRET_VALUE.search(value) is None else _MASK


def check_json(value: object, where: str, depth: int = 0) -> None:
    """Refuse anything that is not plain JSON, or that names or carries a secret."""
    _check_json(value, (where,), depth)


def _path(parts: tuple[object, ...]) -> str:
    """The location for an error message, built only when there is an error."""
    out = str(parts[0])
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _check_json(value: object, parts: tuple[object, ...], depth: int) -> None:
    # Exact-type fast paths first: this runs on every audited request, and
    # isinstance() against the Mapping ABC costs more than the check itself.
    kind = type(value)
    if depth > 8:
        raise ValueError(f"audit details nested too deeply at {_path(parts)}")
    if kind is str:
        text = cast(str, value)
        if _SECRET_VALUE.search(text):
            check_text(text, _path(parts))
    elif value is None or kind is bool or kind is int:
        return
    elif kind is dict or (kind is not str and isinstance(value, Mapping)):
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or _is_denied_key(key):
                _check_key(key, _path(parts))
            _check_json(item, (*parts, key), depth + 1)
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            _check_json(item, (*parts, index), depth + 1)
    elif isinstance(value, str):
        check_text(value, _path(parts))
    elif isinstance(value, int):  # int subclasses (enums): JSON numbers
        return
    elif not isinstance(value, float):
        raise ValueError(f"audit value at {_path(parts)} is a {kind.__name__}, not JSON")
    elif not math.isfinite(value):
        raise ValueError(f"audit value at {_path(parts)} must be a finite number")


def plain(value: Any) -> Any:
    """A private copy as plain dicts and lists (what ``json`` encodes), already checked."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
