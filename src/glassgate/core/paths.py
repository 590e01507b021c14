"""The one canonical path normalisation, used for routing and forwarding alike.

A path that could be read two ways by two parsers is the root of most proxy
bypasses (CVE-2021-22205 family, Tomcat ``..;``, nginx merge_slashes). So the
gateway decides on exactly one reading and forwards exactly that reading:

1. The raw target must be origin-form (``/...``); the query is split off.
2. Raw bytes must be printable ASCII; a raw backslash is rejected.
3. A path parameter is rejected: ``;``, raw or encoded as ``%3B``. Tomcat,
   Jetty and Spring drop ``;...`` from each segment before they route, so
   ``/admin;x/users`` is ``/admin/users`` to them while a whole-segment matcher
   sees a segment ``admin;x`` and moves on to a later route; ``..;`` is the
   classic dot-segment variant. Spring Security's ``StrictHttpFirewall``
   refuses them the same way. A ``;`` in the query is untouched.
4. Percent-decoding is done once (RFC 3986 2.1). An encoded ``/``, ``\\``,
   ``%`` (double encoding), NUL or control character is rejected, and the
   decoded bytes must be valid UTF-8 (so overlong ``%c0%ae`` is rejected).
5. Dot segments are removed (RFC 3986 5.2.4); a path climbing above the root
   is rejected.
6. Repeated slashes are merged.

``canonical_path`` returns the decoded canonical path; ``encode_path`` gives the
one on-the-wire form that is forwarded upstream.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from glassgate.errors import PathRejectedError

__all__ = ["MAX_PATH_BYTES", "canonical_path", "encode_path", "split_target"]

MAX_PATH_BYTES = 8192

_HEX = frozenset(b"0123456789abcdefABCDEF")
_SEMICOLON = 0x3B
_FORBIDDEN_DECODED = frozenset({0x2F, 0x5C, 0x25, 0x7F, *range(0x20)})
_SAFE_FOR_WIRE = "/:@!$&'()*+,=-._~"  # no ';': a canonical path never holds one
_PARAMETER_REFUSED = (
    "the path holds ';' (raw or as %3B), a path parameter that some servers drop "
    "before routing; send such data in the query instead"
)


def split_target(target: str) -> tuple[str, str]:
    """Split an origin-form request target into (raw path, raw query)."""
    if not target.startswith("/"):
        raise PathRejectedError("the request target must be a path starting with '/'")
    if "#" in target:
        raise PathRejectedError("a request target cannot contain a fragment ('#')")
    path, sep, query = target.partition("?")
    return path, query if sep else ""


def _check_raw(raw: str) -> bytes:
    try:
        data = raw.encode("ascii")
    except UnicodeEncodeError:
        raise PathRejectedError("the path contains raw non-ASCII characters") from None
    if len(data) > MAX_PATH_BYTES:
        raise PathRejectedError(f"the path is longer than {MAX_PATH_BYTES} bytes")
    for byte in data:
        if byte <= 0x20 or byte >= 0x7F:
            raise PathRejectedError("the path contains a control character or space")
        if byte == 0x5C:
            raise PathRejectedError("the path contains a backslash")
        if byte == _SEMICOLON:
            raise PathRejectedError(_PARAMETER_REFUSED)
    return data


def _percent_decode(data: bytes) -> str:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte != 0x25:
            out.append(byte)
            i += 1
            continue
        if i + 2 >= n or data[i + 1] not in _HEX or data[i + 2] not in _HEX:
            raise PathRejectedError("the path has a malformed percent-escape")
        value = int(data[i + 1 : i + 3], 16)
        if value == _SEMICOLON:
            raise PathRejectedError(_PARAMETER_REFUSED)
        if value in _FORBIDDEN_DECODED:
            raise PathRejectedError(
                "the path encodes a slash, backslash, percent sign or control character"
            )
        out.append(value)
        i += 3
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise PathRejectedError("the path does not decode to valid UTF-8") from None


def _remove_dot_segments(decoded: str) -> str:
    trailing = decoded.endswith("/") or decoded.endswith("/.") or decoded.endswith("/..")
    stack: list[str] = []
    for segment in decoded.split("/")[1:]:
        if segment in ("", "."):
            continue
        if segment == "..":
            if not stack:
                raise PathRejectedError("the path climbs above the root")
            stack.pop()
            continue
        stack.append(segment)
    path = "/" + "/".join(stack)
    if trailing and stack:
        path += "/"
    return path


@lru_cache(maxsize=1024)
def canonical_path(raw_path: str) -> str:
    """The decoded canonical form of ``raw_path``, or PathRejectedError.

    Pure and deterministic, so results are memoised: hot paths repeat.
    """
    if not raw_path.startswith("/"):
        raise PathRejectedError("the path must start with '/'")
    return _remove_dot_segments(_percent_decode(_check_raw(raw_path)))


def encode_path(path: str) -> str:
    """The wire form of a canonical path: the only form forwarded upstream."""
    return quote(path, safe=_SAFE_FOR_WIRE)
