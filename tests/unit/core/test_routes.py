"""core.routes: whole-segment, case-sensitive patterns; first match wins."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.core.routes import Match, PathPattern, RouteTable, RouteTarget, path_segments


def _target(
    pattern: str, value: str, methods: tuple[str, ...] = (), hosts: tuple[str, ...] = ()
) -> RouteTarget[str]:
    return RouteTarget(PathPattern.parse(pattern), frozenset(methods), hosts, value)


def _matches(pattern: str, path: str) -> bool:
    return PathPattern.parse(pattern).matches(path_segments(path))


# --- PathPattern.parse -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "segments", "prefix"),
    [
        pytest.param("/public/*", ("public",), True, id="case=prefix"),
        pytest.param("/public/**", ("public",), True, id="case=double-star-prefix"),
        pytest.param("/public", ("public",), False, id="case=exact"),
        pytest.param("/public/", ("public",), False, id="case=exact-trailing-slash"),
        pytest.param("/api/*/items", ("api", "*", "items"), False, id="case=middle-star"),
        pytest.param("/*", (), True, id="case=everything"),
        pytest.param("/", (), False, id="case=root"),
    ],
)
def test_parse(source: str, segments: tuple[str, ...], prefix: bool) -> None:
    pattern = PathPattern.parse(source)
    assert (pattern.segments, pattern.prefix, pattern.source) == (segments, prefix, source)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("public/*", id="case=no-leading-slash"),
        pytest.param("", id="case=empty"),
        pytest.param("/a//b", id="case=empty-segment"),
        pytest.param("/a/../b", id="case=dotdot-segment"),
        pytest.param("/a/./b", id="case=dot-segment"),
        pytest.param("/public*", id="case=star-inside-segment"),
        pytest.param("/api/v*/items", id="case=partial-star"),
        pytest.param("/a/**/b", id="case=double-star-in-middle"),
        pytest.param("/admin;x/*", id="case=path-parameter"),
    ],
)
def test_parse_rejects(source: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        PathPattern.parse(source)


# --- matching ----------------------------------------------------------------------------------

MATCHES = [
    # /public/* covers /public and everything below it, on whole segments
    ("/public/*", "/public", True),
    ("/public/*", "/public/", True),
    ("/public/*", "/public/a", True),
    ("/public/*", "/public/a/b", True),
    ("/public/*", "/publicity", False),
    ("/public/*", "/public-admin", False),
    ("/public/*", "/publi", False),
    ("/public/*", "/Public/a", False),
    ("/public/*", "/PUBLIC", False),
    ("/public/*", "/", False),
    ("/public/*", "/admin/public", False),
    ("/public/*", "/public;x/a", False),
    # exact patterns
    ("/public", "/public", True),
    ("/public", "/public/", True),
    ("/public", "/public/a", False),
    ("/public", "/publicity", False),
    ("/admin", "/ADMIN", False),
    ("/", "/", True),
    ("/", "/a", False),
    # one segment in the middle
    ("/api/*/items", "/api/7/items", True),
    ("/api/*/items", "/api/x-y/items/", True),
    ("/api/*/items", "/api/items", False),
    ("/api/*/items", "/api/7/8/items", False),
    ("/api/*/items", "/api/7/items/9", False),
    ("/api/*/items/*", "/api/7/items/9/10", True),
    # everything
    ("/*", "/", True),
    ("/*", "/anything/at/all", True),
]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [pytest.param(p, path, expected, id=f"case={p}~{path}") for p, path, expected in MATCHES],
)
def test_pattern_matches_whole_segments(pattern: str, path: str, expected: bool) -> None:
    assert _matches(pattern, path) is expected


def test_path_segments_ignores_trailing_slash() -> None:
    assert path_segments("/a/b/") == path_segments("/a/b") == ("a", "b")
    assert path_segments("/") == ()


_seg_text = st.text(
    st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1
)


@settings(max_examples=200, deadline=None)
@given(
    seg=_seg_text.filter(lambda s: s not in (".", "..") and "*" not in s and ";" not in s),
    path=st.lists(_seg_text, max_size=5),
    trailing=st.booleans(),
    first=st.sampled_from(["random", "same", "longer", "shorter", "other-case"]),
)
def test_prefix_pattern_matches_iff_first_segment_equals(
    seg: str, path: list[str], trailing: bool, first: str
) -> None:
    if path:  # bias the first segment towards the interesting neighbours of seg
        path[0] = {
            "random": path[0],
            "same": seg,
            "longer": seg + path[0],
            "shorter": seg[:-1] or path[0],
            "other-case": seg.swapcase(),
        }[first]
    raw = "/" + "/".join(path) + ("/" if trailing and path else "")
    table = RouteTable([_target(f"/{seg}/*", "hit")])
    match, value = table.lookup("GET", "", raw)
    expected = bool(path) and path[0] == seg
    assert (match is Match.FULL) is expected
    assert (value == "hit") is expected


# --- hosts -------------------------------------------------------------------------------------

HOSTS = [
    ((), "anything.example", True),
    (("api.example.com",), "api.example.com", True),
    (("api.example.com",), "www.example.com", False),
    (("api.example.com",), "api.example.com.evil", False),
    (("api.example.com",), "", False),
    (("*.example.com",), "a.example.com", True),
    (("*.example.com",), "a.b.example.com", True),
    (("*.example.com",), "example.com", False),
    (("*.example.com",), ".example.com", False),
    (("*.example.com",), "evilexample.com", False),
    (("*.example.com",), "example.com.evil", False),
    (("api.example.com", "*.example.org"), "x.example.org", True),
]


@pytest.mark.parametrize(
    ("hosts", "host", "expected"),
    [
        pytest.param(hosts, host, expected, id=f"case={'|'.join(hosts) or 'any'}~{host or 'none'}")
        for hosts, host, expected in HOSTS
    ],
)
def test_host_patterns(hosts: tuple[str, ...], host: str, expected: bool) -> None:
    table = RouteTable([_target("/*", "hit", hosts=hosts)])
    assert (table.lookup("GET", host, "/x")[0] is Match.FULL) is expected


@pytest.mark.parametrize(
    ("hosts", "host"),
    [
        pytest.param(("api.example.com",), "API.Example.COM", id="case=exact"),
        pytest.param(("*.example.com",), "A.EXAMPLE.COM", id="case=wildcard"),
    ],
)
def test_host_match_is_case_insensitive(hosts: tuple[str, ...], host: str) -> None:
    table = RouteTable([_target("/*", "hit", hosts=hosts)])
    assert table.lookup("GET", host, "/x") == (Match.FULL, "hit")


# --- methods and ordering ----------------------------------------------------------------------


def test_method_mismatch_is_partial() -> None:
    table = RouteTable([_target("/api/*", "api", methods=("GET", "HEAD"))])
    assert table.lookup("GET", "", "/api/x") == (Match.FULL, "api")
    assert table.lookup("POST", "", "/api/x") == (Match.PARTIAL, None)
    assert table.lookup("get", "", "/api/x") == (Match.PARTIAL, None)
    assert table.lookup("POST", "", "/other") == (Match.NONE, None)


def test_get_covers_head() -> None:
    # HEAD is GET without a body (RFC 9110 9.3.2); frameworks run the GET handler for it.
    table = RouteTable([_target("/docs/*", "docs", methods=("GET",)), _target("/*", "open")])
    assert table.lookup("HEAD", "", "/docs/x") == (Match.FULL, "docs")
    assert table.lookup("GET", "", "/docs/x") == (Match.FULL, "docs")
    assert table.lookup("OPTIONS", "", "/docs/x") == (Match.FULL, "open")  # its own method


def test_head_alone_does_not_cover_get() -> None:
    table = RouteTable([_target("/docs/*", "docs", methods=("HEAD",))])
    assert table.lookup("GET", "", "/docs/x") == (Match.PARTIAL, None)


def test_no_methods_means_every_method() -> None:
    table = RouteTable([_target("/api/*", "api")])
    for method in ("GET", "POST", "OPTIONS", "PROPFIND", "DELETE", "BREW"):
        assert table.lookup(method, "", "/api") == (Match.FULL, "api")


def test_host_mismatch_is_none_not_partial() -> None:
    table = RouteTable([_target("/api/*", "api", methods=("GET",), hosts=("a.example",))])
    assert table.lookup("POST", "b.example", "/api") == (Match.NONE, None)


def test_first_full_match_wins() -> None:
    table = RouteTable(
        [
            _target("/api/admin/*", "admin"),
            _target("/api/*", "api"),
            _target("/*", "catch-all"),
        ]
    )
    assert table.lookup("GET", "", "/api/admin/x") == (Match.FULL, "admin")
    assert table.lookup("GET", "", "/api/other") == (Match.FULL, "api")
    assert table.lookup("GET", "", "/elsewhere") == (Match.FULL, "catch-all")


def test_order_not_specificity_decides() -> None:
    table = RouteTable([_target("/api/*", "api"), _target("/api/admin/*", "admin")])
    assert table.lookup("GET", "", "/api/admin/x") == (Match.FULL, "api")


def test_later_full_match_beats_earlier_partial() -> None:
    table = RouteTable(
        [_target("/api/*", "read-only", methods=("GET",)), _target("/api/*", "writes")]
    )
    assert table.lookup("POST", "", "/api/x") == (Match.FULL, "writes")
    assert table.lookup("GET", "", "/api/x") == (Match.FULL, "read-only")


def test_empty_table_matches_nothing() -> None:
    table: RouteTable[str] = RouteTable([])
    assert len(table) == 0
    assert table.lookup("GET", "", "/") == (Match.NONE, None)


def test_table_length() -> None:
    assert len(RouteTable([_target("/a", "a"), _target("/b", "b")])) == 2
