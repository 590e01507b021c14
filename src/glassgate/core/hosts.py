"""The one canonical host name, used for matching ``hosts:`` and for ``X-Forwarded-Host``.

Two spellings of one host must never match two different routes. DNS, Caddy
and Traefik treat ``admin.example.com.`` (the fully qualified form) as
``admin.example.com``, so a matcher that does not would let the dotted form
fall through to a later route. The canonical form is therefore: lower case
(RFC 9110 4.2.3: the host is case-insensitive), the port dropped, and one
trailing dot removed.

Anything else that is not a plain host name is refused (RFC 9112 3.2: a
server answers 400 to an invalid ``Host``) rather than guessed at: empty
labels (``a..b``, ``.a``, a second trailing dot), percent-escapes, spaces,
non-ASCII bytes (send IDNA, ``xn--``), a non-numeric or second port. IPv6
literals keep their brackets. An absent or empty ``Host`` is ``""``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from glassgate.errors import HostRejectedError

__all__ = ["canonical_host"]

# A bracketed IPv6 literal, or dot-separated labels with at most one trailing dot;
# then an optional port of digits (RFC 3986 3.2.3 allows an empty one).
_HOST = re.compile(
    r"(?:(\[[0-9a-f:.]{2,45}\])|([a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63}){0,126})\.?)(?::[0-9]{0,5})?"
)
_MAX_HOST_CHARS = 260


@lru_cache(maxsize=256)
def canonical_host(value: str) -> str:
    """The canonical host of a ``Host`` (or ``X-Forwarded-Host``) value, or HostRejectedError."""
    text = value.strip(" \t").lower()
    if not text:
        return ""
    match = _HOST.fullmatch(text) if len(text) <= _MAX_HOST_CHARS else None
    if match is None:
        raise HostRejectedError(
            "the Host header is not a host name (labels of letters, digits, '-' and '_', "
            "an optional port); send the name in ASCII (IDNA) without escapes"
        )
    return match.group(1) or match.group(2)
