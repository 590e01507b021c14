"""core.paths: the one canonical path (REFERENCE-POLICY section 3).

The tables pin every path shape the reference policy names; the property tests
pin what matters for routing safety: the canonical path is what is forwarded
(``encode_path``), and re-reading the forwarded form, by us or by any common
upstream normaliser, gives back the same path.
"""

from __future__ import annotations

import contextlib
import posixpath
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.core.paths import MAX_PATH_BYTES, canonical_path, encode_path, split_target
from glassgate.errors import PathRejectedError, RequestRejectedError

# --- table: rejected paths --------------------------------------------------------------------

REJECTED = [
    # encoded slash, backslash, percent (double encoding), NUL and other controls
    ("encoded-slash", "/public/%2fadmin"),
    ("encoded-slash-upper", "/public/%2Fadmin"),
    ("encoded-slash-after-dots", "/public/..%2fadmin"),
    ("encoded-dots-and-slash", "/public/%2e%2e%2fadmin"),
    ("encoded-backslash", "/public/%5cadmin"),
    ("encoded-backslash-upper", "/public/..%5C..%5Cadmin"),
    ("double-encoding", "/public/%252e%252e/admin"),
    ("encoded-percent", "/a%25b"),
    ("encoded-nul", "/public%00/admin"),
    ("encoded-newline", "/a%0ab"),
    ("encoded-cr", "/a%0Db"),
    ("encoded-tab", "/a%09b"),
    ("encoded-del", "/a%7fb"),
    # raw characters that have no business in a request line
    ("raw-backslash", "/public\\..\\admin"),
    ("raw-backslash-single", "/a\\b"),
    ("raw-space", "/a b"),
    ("raw-tab", "/a\tb"),
    ("raw-del", "/a\x7fb"),
    ("raw-non-ascii", "/été"),
    ("raw-fullwidth", "/Ａdmin"),
    # invalid UTF-8 after decoding, overlong forms first
    ("overlong-dot", "/public/%c0%ae%c0%ae/admin"),
    ("overlong-dot-upper", "/%C0%AE%C0%AE/admin"),
    ("overlong-slash", "/public/..%c0%afadmin"),
    ("overlong-3-byte-dot", "/%e0%80%ae%e0%80%ae/admin"),
    ("surrogate", "/%ed%a0%80"),
    ("above-unicode", "/%f4%90%80%80"),
    ("lone-continuation", "/%80"),
    ("truncated-sequence", "/caf%c3"),
    # dot segments with parameters (Tomcat ..;)
    ("dotdot-semicolon", "/public/..;/admin"),
    ("dotdot-semicolon-param", "/public/..;jsessionid=1/admin"),
    ("dot-semicolon", "/public/.;/admin"),
    ("encoded-dotdot-semicolon", "/public/%2e%2e;/admin"),
    ("dotdot-encoded-semicolon", "/public/..%3b/admin"),
    ("dotdot-encoded-semicolon-upper", "/public/..%3B/admin"),
    # any path parameter: Tomcat, Jetty and Spring read /admin;x/users as /admin/users
    ("semicolon-in-first-segment", "/admin;x/users"),
    ("semicolon-empty-parameter", "/admin;/users"),
    ("semicolon-in-last-segment", "/admin;x"),
    ("semicolon-after-prefix", "/admin/users;x"),
    ("semicolon-alone", "/public/;/x"),
    ("semicolon-then-dotdot", "/public/;x/../admin"),
    ("encoded-semicolon-upper", "/admin%3Bx/users"),
    ("encoded-semicolon-lower", "/admin%3bx/users"),
    ("encoded-semicolon-last", "/admin%3B"),
    ("session-parameter", "/admin;jsessionid=1/users"),
    # climbing above the root
    ("climb-root", "/.."),
    ("climb-root-trailing", "/../"),
    ("climb-then-admin", "/../admin"),
    ("climb-past-public", "/public/../../admin"),
    ("climb-encoded", "/%2e%2e/admin"),
    ("climb-deep", "/a/b/../../../c"),
    # malformed percent-escapes
    ("lone-percent", "/%"),
    ("one-hex-digit", "/%4"),
    ("non-hex", "/%zz"),
    ("half-hex", "/%4g"),
    ("trailing-percent", "/a%"),
    ("trailing-one-digit", "/a%2"),
    ("percent-percent", "/%%41"),
    # not a path at all
    ("empty", ""),
    ("relative", "admin"),
    ("asterisk", "*"),
    ("absolute-url", "http://host/admin"),
    ("too-long", "/" + "a" * MAX_PATH_BYTES),
]


@pytest.mark.parametrize("raw", [pytest.param(raw, id=f"case={name}") for name, raw in REJECTED])
def test_ambiguous_or_malformed_path_is_rejected(raw: str) -> None:
    with pytest.raises(PathRejectedError):
        canonical_path(raw)


def test_path_rejection_is_a_400_request_error() -> None:
    with pytest.raises(RequestRejectedError) as info:
        canonical_path("/public/%2fadmin")
    assert info.value.status == 400
    assert info.value.code == "path_rejected"


# --- table: accepted paths and their canonical form --------------------------------------------

ACCEPTED = [
    ("root", "/", "/"),
    ("plain", "/public", "/public"),
    ("trailing-slash-kept", "/public/", "/public/"),
    ("nested", "/public/a/b", "/public/a/b"),
    # dot segments removed (RFC 3986 5.2.4)
    ("dot", "/public/./a", "/public/a"),
    ("dotdot", "/public/a/../b", "/public/b"),
    ("dotdot-at-end", "/public/a/..", "/public/"),
    ("dot-at-end", "/public/.", "/public/"),
    ("dotdot-twice", "/a/b/c/../../d", "/a/d"),
    ("dotdot-trailing-slash", "/a/b/../", "/a/"),
    ("dotdot-to-root", "/a/..", "/"),
    ("encoded-dotdot-leaves-public", "/public/%2e%2e/admin", "/admin"),
    ("mixed-encoded-dotdot", "/public/.%2e/admin", "/admin"),
    ("encoded-dotdot-upper", "/public/%2E%2E/admin", "/admin"),
    ("encoded-dot", "/public/%2E/x", "/public/x"),
    # repeated slashes merged
    ("leading-double-slash", "//public", "/public"),
    ("inner-double-slash", "/public//a", "/public/a"),
    ("triple-trailing", "/public///", "/public/"),
    ("only-slashes", "//", "/"),
    ("double-slash-then-dotdot", "/public/a//../b", "/public/b"),
    # case preserved; percent-escape hex digits are case-insensitive
    ("upper-case", "/ADMIN", "/ADMIN"),
    ("mixed-case", "/Public/X", "/Public/X"),
    ("decoded-upper", "/%41dmin", "/Admin"),
    ("decoded-lower", "/%61dmin", "/admin"),
    # non-ASCII decoded, never folded
    ("utf8", "/caf%C3%A9", "/café"),
    ("utf8-lower-hex", "/caf%c3%a9", "/café"),
    ("fullwidth-not-folded", "/%EF%BC%A1dmin", "/Ａdmin"),
    # names that merely look like dots or parameters
    ("three-dots", "/public/.../x", "/public/.../x"),
    ("dotdot-prefix-name", "/public/..a", "/public/..a"),
    ("hidden-name", "/public/.a", "/public/.a"),
    # harmless encoded characters
    ("encoded-space", "/a%20b", "/a b"),
    ("encoded-question", "/a%3Fb", "/a?b"),
    ("encoded-hash", "/a%23b", "/a#b"),
    ("longest-allowed", "/" + "a" * (MAX_PATH_BYTES - 1), "/" + "a" * (MAX_PATH_BYTES - 1)),
]


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [pytest.param(raw, canonical, id=f"case={name}") for name, raw, canonical in ACCEPTED],
)
def test_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_path(raw) == canonical


# --- split_target ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("/a?x=1", ("/a", "x=1"), id="case=query"),
        pytest.param("/a", ("/a", ""), id="case=no-query"),
        pytest.param("/a?", ("/a", ""), id="case=empty-query"),
        pytest.param("/a?b?c", ("/a", "b?c"), id="case=question-in-query"),
        pytest.param("/a/%2e%2e?q", ("/a/%2e%2e", "q"), id="case=path-stays-raw"),
        pytest.param("//host/a", ("//host/a", ""), id="case=double-slash-is-a-path"),
    ],
)
def test_split_target(target: str, expected: tuple[str, str]) -> None:
    assert split_target(target) == expected


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("http://host/admin", id="case=absolute-form"),
        pytest.param("https://host/public/x", id="case=absolute-form-https"),
        pytest.param("HTTP://host/admin", id="case=absolute-form-upper"),
        pytest.param("host/admin", id="case=no-leading-slash"),
        pytest.param("*", id="case=asterisk-form"),
        pytest.param("", id="case=empty"),
        pytest.param("/admin#frag", id="case=fragment"),
        pytest.param("/public?x#/admin", id="case=fragment-in-query"),
    ],
)
def test_split_target_rejects(target: str) -> None:
    with pytest.raises(PathRejectedError):
        split_target(target)


def test_double_slash_target_is_forwarded_as_a_local_path() -> None:
    # "//host/x" must never become a protocol-relative URL on the way out.
    path, _ = split_target("//evil.example/x")
    assert encode_path(canonical_path(path)) == "/evil.example/x"


# --- encode_path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        pytest.param("/café", "/caf%C3%A9", id="case=utf8"),
        pytest.param("/a b", "/a%20b", id="case=space"),
        pytest.param("/a?b", "/a%3Fb", id="case=question"),
        pytest.param("/a#b", "/a%23b", id="case=hash"),
        pytest.param("/a;b=c", "/a%3Bb=c", id="case=semicolon-encoded"),
        pytest.param("/~user/a:b@c", "/~user/a:b@c", id="case=pchar-kept"),
        pytest.param("/public/", "/public/", id="case=trailing-slash"),
    ],
)
def test_encode_path(path: str, wire: str) -> None:
    assert encode_path(path) == wire


def test_a_path_tomcat_reads_differently_is_refused() -> None:
    # A Tomcat-style upstream strips ";x" from each segment: /admin;x/users is /admin/users
    # to it, while a whole-segment route matcher sees "admin;x". Refused, whichever form.
    assert _tomcat("/admin;x/users") == ("admin", "users")
    assert _segments("/admin;x/users") == ("admin;x", "users")
    for raw in ("/admin;x/users", "/admin%3Bx/users", "/public/;x/../admin"):
        with pytest.raises(PathRejectedError, match="';'"):
            canonical_path(raw)


# --- properties --------------------------------------------------------------------------------

_TOKENS = (
    "public",
    "admin",
    "a",
    "A",
    ".",
    "..",
    "...",
    "%2e",
    "%2E",
    ".%2e",
    "%2e.",
    "%2f",
    "%2F",
    "%5c",
    "%25",
    "%252e",
    "%00",
    "%0a",
    ";",
    "..;",
    ";x",
    "%3b",
    "%c0%ae",
    "%C3%A9",
    "%EF%BC%A1",
    "%20",
    "%41",
    "\\",
    "%",
    "%4",
    "%zz",
    "?",
    "#",
    " ",
    "é",
    "~",
    ":",
    "@",
)
_segment = st.lists(
    st.sampled_from(_TOKENS)
    | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=3),
    max_size=3,
).map("".join)
raw_paths = st.lists(_segment, max_size=8).map(lambda segments: "/" + "/".join(segments))
# Biased towards the classic bypass shape: /public/<dots and escapes>/admin.
bypass_paths = st.tuples(st.lists(_segment, max_size=4), st.sampled_from(["admin", "public"])).map(
    lambda parts: "/public/" + "/".join(parts[0]) + "/" + parts[1]
)
any_path = raw_paths | bypass_paths

_SETTINGS = settings(max_examples=200, deadline=None)


def _canonical_or_none(raw: str) -> str | None:
    try:
        return canonical_path(raw)
    except PathRejectedError:
        return None


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _tomcat(path: str) -> tuple[str, ...]:
    """A Tomcat-like reading: decode once, drop ;params per segment, then normalise."""
    stripped = "/".join(seg.split(";", 1)[0] for seg in unquote(path).split("/"))
    return _segments(posixpath.normpath("/" + stripped))


@_SETTINGS
@given(any_path)
def test_canonical_path_is_a_fixed_point_of_its_forwarded_form(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is None:
        return
    # The forwarded form is a request target: it is split before it is canonicalised.
    path, query = split_target(encode_path(canonical))
    assert query == ""
    assert canonical_path(path) == canonical


@_SETTINGS
@given(any_path)
def test_canonical_path_has_one_unambiguous_shape(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is None:
        return
    assert canonical.startswith("/")
    assert "//" not in canonical
    assert "/./" not in canonical
    assert "/../" not in canonical
    assert not canonical.endswith(("/.", "/.."))
    assert "\\" not in canonical
    assert "%" not in canonical
    assert ";" not in canonical
    assert all(ord(char) >= 0x20 and ord(char) != 0x7F for char in canonical)
    for segment in _segments(canonical):
        assert segment.split(";", 1)[0] not in (".", "..")


@_SETTINGS
@given(any_path)
def test_upstream_readings_of_the_forwarded_form_agree(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is None:
        return
    wire = encode_path(canonical)
    expected = _segments(canonical)
    assert _segments(posixpath.normpath(unquote(wire))) == expected
    assert _segments(posixpath.normpath(unquote(unquote(wire)))) == expected  # double decoder
    assert _segments(posixpath.normpath(unquote(wire).replace("\\", "/"))) == expected
    # A ;params-stripping upstream may shorten names but never sees a dot segment.
    assert _tomcat(wire) == tuple(s.split(";", 1)[0] for s in expected if s.split(";", 1)[0])


@_SETTINGS
@given(any_path)
def test_nothing_routed_under_public_is_read_as_admin(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is None or _segments(canonical)[:1] != ("public",):
        return
    # Neither the raw form (decoded once, POSIX-normalised) nor the forwarded form
    # leaves /public.
    assert _segments(posixpath.normpath(unquote(raw)))[:1] == ("public",)
    assert _segments(posixpath.normpath(unquote(encode_path(canonical))))[:1] == ("public",)


@_SETTINGS
@given(st.text(max_size=64))
def test_arbitrary_text_only_ever_raises_path_rejected(text: str) -> None:
    for function in (canonical_path, split_target):
        with contextlib.suppress(PathRejectedError):
            function(text)
