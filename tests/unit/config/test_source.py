"""config.source: YAML with line numbers, ``${VAR}`` expansion and hostile-input limits."""

from __future__ import annotations

import time

import pytest

from glassgate.config.source import Located, format_path, parse_yaml

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _parse(text: str, env: dict[str, str] | None = None) -> Located:
    return parse_yaml(text, "gate.yaml", env or {})


def _messages(located: Located) -> list[tuple[str, int | None, str]]:
    return [(p.location, p.line, p.message) for p in located.problems]


# --- structure and lines -----------------------------------------------------------------------


def test_lines_of_every_path() -> None:
    located = _parse("a:\n  b: [1, 2]\n  c:\n    - x\n    - y: 1\n")
    assert located.problems == []
    assert located.data == {"a": {"b": [1, 2], "c": ["x", {"y": 1}]}}
    assert located.lines[("a",)] == 1
    assert located.lines[("a", "b")] == 2
    assert located.lines[("a", "b", 1)] == 2
    assert located.lines[("a", "c", 0)] == 4
    assert located.lines[("a", "c", 1, "y")] == 5


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    located = _parse("top: 1\nroutes:\n  - id: r\n")
    assert located.line_of(("routes", 0, "id")) == 3
    assert located.line_of(("routes", 0, "match", "path")) == 3
    assert located.line_of(("routes", 5)) == 2
    assert located.line_of(("nowhere",)) == 1


def test_empty_document_is_an_empty_mapping() -> None:
    located = _parse("")
    assert (located.data, located.problems) == ({}, [])
    assert _parse("# only a comment\n").data == {}


def test_scalar_types_are_kept() -> None:
    located = _parse("i: 3\nf: 1.5\nb: true\nn: null\ns: '3'\n")
    assert located.data == {"i": 3, "f": 1.5, "b": True, "n": None, "s": "3"}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param(
            ("routes", 2, "allow", "groups", 0), "routes[2].allow.groups[0]", id="case=nested"
        ),
        pytest.param(("listen",), "listen", id="case=top"),
        pytest.param((), "", id="case=root"),
        pytest.param(("networks", "corp-net", 0), "networks.corp-net[0]", id="case=dash-key"),
        pytest.param(("networks", "a b"), "networks['a b']", id="case=odd-key"),
        pytest.param(("quotas", "1x"), "quotas['1x']", id="case=digit-key"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


# --- problems ----------------------------------------------------------------------------------


def test_duplicate_key_is_a_problem_at_the_second_line() -> None:
    located = _parse("listen: a\nroutes: []\nlisten: b\n")
    assert _messages(located) == [("listen", 3, "duplicate key 'listen'")]
    assert located.data["listen"] == "a"


def test_nested_duplicate_key() -> None:
    located = _parse("routes:\n  - id: a\n    match: {path: /a}\n    id: b\n")
    assert _messages(located) == [("routes[0].id", 4, "duplicate key 'id'")]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<<: {a: 1}\n", id="case=merge-key"),
        pytest.param("base: &b {a: 1}\nother:\n  <<: *b\n", id="case=merge-alias"),
        pytest.param("? [a, b]\n: 1\n", id="case=sequence-key"),
        pytest.param("? {a: 1}\n: 1\n", id="case=mapping-key"),
    ],
)
def test_keys_must_be_plain_strings(text: str) -> None:
    located = _parse(text)
    assert [p.message for p in located.problems] == ["keys must be plain strings (no merge keys)"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("a: 1\n b: 2\n", 2, id="case=bad-indent"),
        pytest.param("a: [1,\n", 2, id="case=unclosed-flow"),
        pytest.param("a:\n\tb: 1\n", 2, id="case=tab"),
        pytest.param("a: 'x\n", 2, id="case=unclosed-quote"),
        pytest.param("a: 1\n---\nb: 2\n", 2, id="case=two-documents"),
        pytest.param("a: *nope\n", 1, id="case=undefined-alias"),
    ],
)
def test_invalid_yaml_is_one_problem_with_a_line(text: str, line: int) -> None:
    located = _parse(text)
    assert located.data is None
    assert len(located.problems) == 1
    assert located.problems[0].line == line
    assert located.problems[0].message.startswith("not valid YAML")


def test_unsafe_tag_on_a_scalar_is_a_problem() -> None:
    located = _parse("x: !!python/name:os.system\n")
    assert _messages(located) == [
        ("x", 1, "unsupported YAML value or tag 'tag:yaml.org,2002:python/name:os.system'")
    ]


def test_unsafe_tag_on_a_mapping_constructs_nothing() -> None:
    located = _parse("x: !!python/object/apply:os.system {args: [id]}\n")
    assert located.data == {"x": {"args": ["id"]}}


def test_billion_laughs_is_rejected_quickly() -> None:
    started = time.perf_counter()
    located = _parse(BILLION_LAUGHS)
    assert time.perf_counter() - started < 2.0
    assert located.data is None
    assert [p.message for p in located.problems] == [
        "the document is too large or too deeply nested"
    ]


def test_recursive_alias_is_rejected() -> None:
    located = _parse("a: &a [*a]\n")
    assert located.data is None
    assert [p.message for p in located.problems] == [
        "the document is too large or too deeply nested"
    ]


def test_moderate_aliases_are_fine() -> None:
    located = _parse("a: &a [1, 2]\nb: *a\n")
    assert (located.data, located.problems) == ({"a": [1, 2], "b": [1, 2]}, [])


def test_nesting_limit() -> None:
    ok = "[" * 60 + "]" * 60
    too_deep = "[" * 70 + "]" * 70
    assert _parse(f"a: {ok}\n").problems == []
    assert _parse(f"a: {too_deep}\n").data is None


def test_very_deep_nesting_is_a_problem_not_a_crash() -> None:
    located = _parse("a: " + "[" * 600 + "]" * 600 + "\n")
    assert located.data is None
    assert located.problems


# --- ${VAR} expansion --------------------------------------------------------------------------

EXPANSIONS = [
    ("set", "a: ${X}\n", {"X": "1"}, "1"),
    ("inside-text", "a: pre-${X}-post\n", {"X": "mid"}, "pre-mid-post"),
    ("two-vars", "a: ${X}${Y}\n", {"X": "1", "Y": "2"}, "12"),
    ("default-unset", "a: ${X:-dflt}\n", {}, "dflt"),
    ("default-ignored", "a: ${X:-dflt}\n", {"X": "set"}, "set"),
    ("default-for-empty", "a: ${X:-dflt}\n", {"X": ""}, "dflt"),
    ("empty-default", "a: ${X:-}\n", {}, ""),
    ("default-with-colon", "a: ${X:-http://127.0.0.1:9400}\n", {}, "http://127.0.0.1:9400"),
    ("dollar-dollar", "a: $$HOME\n", {}, "$HOME"),
    ("escaped-var", "a: $${X}\n", {"X": "1"}, "${X}"),
    ("lone-dollar", "a: cost $5\n", {}, "cost $5"),
    ("quoted", 'a: "${X}"\n', {"X": "q"}, "q"),
    ("yaml-flow-syntax", "a: ${X}\n", {"X": "[a, b]"}, "[a, b]"),
    ("yaml-mapping-syntax", "a: ${X}\n", {"X": "{b: 1}"}, "{b: 1}"),
    ("yaml-alias-syntax", "a: ${X}\n", {"X": "*ref"}, "*ref"),
    ("yaml-document-syntax", "a: ${X}\n", {"X": "x\n---\nb: 2"}, "x\n---\nb: 2"),
    ("number-stays-string", "a: ${X}\n", {"X": "8080"}, "8080"),
    ("bool-stays-string", "a: ${X}\n", {"X": "true"}, "true"),
    ("no-second-pass", "a: ${X}\n", {"X": "${Y}", "Y": "second"}, "${Y}"),
]


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [pytest.param(text, env, value, id=f"case={name}") for name, text, env, value in EXPANSIONS],
)
def test_expansion(text: str, env: dict[str, str], value: str) -> None:
    located = _parse(text, env)
    assert located.problems == []
    assert located.data == {"a": value}


def test_unset_variable_is_a_problem_with_path_and_line() -> None:
    located = _parse("listen: x\nissuers:\n  - issuer: ${GLASSGATE_ISSUER}\n")
    assert _messages(located) == [
        ("issuers[0].issuer", 3, "environment variable GLASSGATE_ISSUER is not set")
    ]
    assert "GLASSGATE_ISSUER:-" in located.problems[0].hint
    assert located.data["issuers"][0]["issuer"] == ""


def test_empty_variable_without_default_is_a_problem() -> None:
    located = _parse("a: ${X}\n", {"X": ""})
    assert _messages(located) == [("a", 1, "environment variable X is not set")]


def test_every_unset_variable_is_reported() -> None:
    located = _parse('a: ${X}\nb: ["${Y}", "${Z}"]\n')
    assert [(p.location, p.line) for p in located.problems] == [("a", 1), ("b[0]", 2), ("b[1]", 2)]


def test_keys_are_not_expanded() -> None:
    located = _parse("${X}: 1\n", {"X": "listen"})
    assert located.data == {"${X}": 1}


def test_non_string_scalars_are_not_expanded() -> None:
    assert _parse("a: 5\n", {"5": "x"}).data == {"a": 5}


def test_expanded_value_cannot_inject_structure() -> None:
    located = _parse("a: ${X}\nb: 1\n", {"X": "1\nb: 2\nc: 3"})
    assert located.data == {"a": "1\nb: 2\nc: 3", "b": 1}
