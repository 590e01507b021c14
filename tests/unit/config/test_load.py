"""config.load: file handling, schema problems with did-you-mean, secrets, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassgate.cli import main
from glassgate.config.load import MAX_CONFIG_BYTES, LoadedConfig, load_config, load_config_text
from glassgate.errors import ConfigError, Problem

FILE = "gate.yaml"
SECRET = "s3cr3t-Cl13nt-Passw0rd"

MINIMAL = """\
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
"""

WITH_SECRET = """\
version: 1
listen: ${LISTEN:-127.0.0.1:8080}
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
    introspection:
      endpoint: http://127.0.0.1:9400/introspect
      client_id: gateway
      client_secret: ${INTROSPECTION_SECRET}
"""


def _problems(text: str, env: dict[str, str] | None = None) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, FILE, env or {})
    return info.value.problems


def _located(
    text: str, env: dict[str, str] | None = None
) -> list[tuple[str, int | None, str, str]]:
    return [(p.location, p.line, p.message, p.hint) for p in _problems(text, env)]


# --- loading -----------------------------------------------------------------------------------


def test_minimal_config_loads_with_defaults() -> None:
    loaded = load_config_text(MINIMAL, FILE, {})
    assert isinstance(loaded, LoadedConfig)
    assert loaded.source == FILE
    assert loaded.config.listen == "127.0.0.1:8080"
    assert loaded.config.issuers[0].algorithms == ("RS256", "ES256")
    assert loaded.config.routes == ()
    assert len(loaded.compiled.policy.routes) == 0


def test_load_config_reads_a_file_with_the_given_env(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(MINIMAL.replace("http://127.0.0.1:9400", "${ISSUER}"), encoding="utf-8")
    loaded = load_config(path, env={"ISSUER": "https://idp.example"})
    assert loaded.source == str(path)
    assert loaded.config.issuers[0].issuer == "https://idp.example"


def test_load_config_uses_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GG_TEST_ISSUER", "https://idp.example")
    path = tmp_path / "gate.yaml"
    path.write_text(MINIMAL.replace("http://127.0.0.1:9400", "${GG_TEST_ISSUER}"), "utf-8")
    assert load_config(path).config.issuers[0].issuer == "https://idp.example"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.yaml", env={})
    (problem,) = info.value.problems
    assert problem.message.startswith("cannot read the file")
    assert problem.file == str(tmp_path / "absent.yaml")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path, env={})


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(MINIMAL.encode() + b"#" * MAX_CONFIG_BYTES)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert [p.message for p in info.value.problems] == ["the file is larger than 4 MiB"]


@pytest.mark.parametrize(
    "junk",
    [
        pytest.param(b"\xff\xfe\x00\x01binary", id="case=invalid-utf8"),
        pytest.param(b"\xc0\xae", id="case=overlong"),
        pytest.param(MINIMAL.encode("utf-16"), id="case=utf16"),
    ],
)
def test_non_utf8_file(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(junk)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert [p.message for p in info.value.problems] == ["the file is not valid UTF-8"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- a\n- b\n", id="case=list"),
        pytest.param("just text\n", id="case=scalar"),
        pytest.param("42\n", id="case=number"),
        pytest.param("null\n", id="case=null"),
    ],
)
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert _located(text) == [("", 1, "the file must hold a mapping at the top", "")]


def test_empty_file_needs_issuers() -> None:
    assert _located("") == [("issuers", None, "'issuers' is required", "")]


def test_invalid_yaml_has_a_line() -> None:
    problems = _problems(MINIMAL + "routes: [\n")
    assert [(p.location, p.line) for p in problems] == [("", 7)]
    assert problems[0].render().startswith(f"{FILE}:7: <root>: not valid YAML")


# --- schema problems ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "location", "line", "hint"),
    [
        pytest.param(
            MINIMAL + "rotues: []\n", "rotues", 6, "did you mean 'routes'?", id="case=top"
        ),
        pytest.param(
            MINIMAL + "routes:\n  - id: r\n    match: {path: /a}\n    alow: {groups: [x]}\n",
            "routes[0].alow",
            9,
            "did you mean 'allow'?",
            id="case=route",
        ),
        pytest.param(
            MINIMAL + "    jwks: {refresh_intervall: 60s}\n",
            "issuers[0].jwks.refresh_intervall",
            6,
            "did you mean 'refresh_interval'?",
            id="case=nested-model",
        ),
        pytest.param(
            MINIMAL + "auth_strength:\n  strong:\n    amrs: [hwk]\n",
            "auth_strength.strong.amrs",
            8,
            "did you mean 'amr'?",
            id="case=inside-dict-of-models",
        ),
        pytest.param(
            MINIMAL + "routes:\n  - id: r\n    match: {path: /a, verbs: [GET]}\n",
            "routes[0].match.verbs",
            8,
            "known keys here: hosts, methods, path",
            id="case=no-close-match",
        ),
    ],
)
def test_unknown_key_with_did_you_mean(text: str, location: str, line: int, hint: str) -> None:
    found = _located(text)
    # [1:] may hold the spurious "issuers: ... at least 1 item" (see test_checks.py).
    assert found[0] == (location, line, f"unknown key '{location.rsplit('.', 1)[-1]}'", hint)
    assert all(extra[0] == "issuers" for extra in found[1:])


def test_missing_required_field() -> None:
    text = MINIMAL + "routes:\n  - id: r\n    upstream: app\n"
    assert _located(text) == [("routes[0].match", 7, "'match' is required", "")]


def test_wrong_type_is_located() -> None:
    text = MINIMAL + "routes:\n  - id: r\n    match: {path: /a}\n    anonymous: maybe\n"
    ((location, line, message, _),) = _located(text)
    assert (location, line) == ("routes[0].anonymous", 9)
    assert "boolean" in message


def test_bad_duration_is_located() -> None:
    text = MINIMAL + "    leeway: soon\n"
    location, line, message, _ = _located(text)[0]
    assert (location, line) == ("issuers[0].leeway", 6)
    assert "duration" in message


def test_invalid_route_id() -> None:
    text = MINIMAL + "routes:\n  - id: 'has space'\n    match: {path: /a}\n"
    assert [(p.location, p.line) for p in _problems(text)] == [("routes[0].id", 7)]


def test_unset_variable_and_schema_problems_are_reported_together() -> None:
    text = MINIMAL + "listen: ${LISTEN}\nrotues: []\n"
    assert [(p.location, p.line, p.message) for p in _problems(text)] == [
        ("listen", 6, "environment variable LISTEN is not set"),
        ("rotues", 7, "unknown key 'rotues'"),
    ]


def test_unset_variable_alone_still_fails() -> None:
    text = MINIMAL.replace("api://gateway", '"${AUDIENCE}"')
    # The empty audience would satisfy the schema; the unset variable must still fail.
    assert [(p.location, p.message) for p in _problems(text)] == [
        ("issuers[0].audiences[0]", "environment variable AUDIENCE is not set")
    ]


def test_env_value_with_yaml_syntax_stays_a_string() -> None:
    loaded = load_config_text(
        MINIMAL.replace("api://gateway", '"${AUDIENCE}"'), FILE, {"AUDIENCE": "[a, {b: c}]"}
    )
    assert loaded.config.issuers[0].audiences == ("[a, {b: c}]",)


def test_env_value_cannot_become_a_list() -> None:
    text = MINIMAL.replace("audiences: [api://gateway]", "audiences: ${AUDIENCES}")
    problems = _problems(text, {"AUDIENCES": "[api://gateway]"})
    assert (problems[0].location, problems[0].line) == ("issuers[0].audiences", 5)
    assert "tuple" in problems[0].message


def test_problems_are_frozen_and_the_error_summarises_them() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(MINIMAL + "rotues: []\nroutez: []\n", FILE, {})
    assert isinstance(info.value.problems, tuple)
    assert str(info.value).startswith("2 configuration problem(s); first: gate.yaml:")
    assert info.value.code == "config_invalid"


# --- secrets -----------------------------------------------------------------------------------


def test_secret_is_loaded_but_masked() -> None:
    loaded = load_config_text(WITH_SECRET, FILE, {"INTROSPECTION_SECRET": SECRET})
    introspection = loaded.config.issuers[0].introspection
    assert introspection is not None
    assert introspection.client_secret.get_secret_value() == SECRET
    assert SECRET not in repr(loaded)
    assert SECRET not in str(loaded.config.model_dump())
    assert SECRET not in loaded.config.model_dump_json()


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(("listen: ${LISTEN:-127.0.0.1:8080}", "listen: nowhere"), id="case=check"),
        pytest.param(("client_id: gateway", "client_idd: gateway"), id="case=schema"),
        pytest.param(("client_id: gateway", "client_id: ${NOPE}"), id="case=env"),
        pytest.param(("version: 1", "version: 1\nversion: 2"), id="case=source"),
    ],
)
def test_secret_never_appears_in_problems(broken: tuple[str, str]) -> None:
    text = WITH_SECRET.replace(*broken)
    with pytest.raises(ConfigError) as info:
        load_config_text(text, FILE, {"INTROSPECTION_SECRET": SECRET})
    rendered = "\n".join(p.render() for p in info.value.problems)
    assert rendered  # something was reported
    assert SECRET not in rendered
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value.problems)


def test_secret_of_the_wrong_type_is_not_echoed() -> None:
    text = WITH_SECRET.replace("${INTROSPECTION_SECRET}", "[s3cr3t-in-a-list]")
    rendered = "\n".join(p.render() for p in _problems(text))
    assert "issuers[0].introspection.client_secret" in rendered
    assert "s3cr3t-in-a-list" not in rendered


def test_check_config_print_masks_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(WITH_SECRET, encoding="utf-8")
    monkeypatch.setenv("INTROSPECTION_SECRET", SECRET)
    assert main(["check-config", "--print", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"OK: {path}: 1 issuer(s), 0 upstream(s), 0 route(s)")
    assert '"client_secret": "**********"' in out
    assert SECRET not in out + err


def test_check_config_failure_masks_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(WITH_SECRET.replace("client_id: gateway", "client_idd: x"), "utf-8")
    monkeypatch.setenv("INTROSPECTION_SECRET", SECRET)
    assert main(["check-config", "--print", str(path)]) == 2
    out, err = capsys.readouterr()
    assert f"{path}:9: issuers[0].introspection.client_idd: unknown key" in err
    assert SECRET not in out + err


# --- hostile input -----------------------------------------------------------------------------

HOSTILE = [
    ("binary-junk", "\x00\x01\x02\x03\xff\xfe"),
    ("control-chars", "a: \x07\x1b[31m\n"),
    ("lone-surrogate", "a: \ud800\n"),
    ("bom-only", "\ufeff"),
    ("python-object", "issuers: !!python/object/apply:os.system ['echo pwned']\n"),
    ("python-name", MINIMAL + "listen: !!python/name:os.system\n"),
    ("python-module", MINIMAL + "listen: !!python/module:os\n"),
    ("custom-tag", MINIMAL + "listen: !secret foo\n"),
    ("binary-tag", MINIMAL + "listen: !!binary aGVsbG8=\n"),
    (
        "billion-laughs",
        "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n"
            for i in range(8)
        ),
    ),
    ("recursive-alias", "issuers: &a [*a]\n"),
    ("nested-60", "issuers: " + "[" * 60 + "]" * 60 + "\n"),
    ("long-line", "listen: " + "x" * 200_000 + "\n"),
    ("many-keys", "".join(f"k{i}: {i}\n" for i in range(2_000))),
    ("tab-indent", "issuers:\n\t- id: x\n"),
    ("two-documents", MINIMAL + "---\n" + MINIMAL),
    ("directive", "%YAML 1.1\n%TAG ! tag:evil,2000:\n---\n!x a: b\n"),
]


@pytest.mark.parametrize("text", [pytest.param(text, id=f"case={name}") for name, text in HOSTILE])
def test_hostile_input_is_a_config_error(text: str) -> None:
    problems = _problems(text)
    assert problems
    assert all(p.file == FILE for p in problems)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("issuers: " + "[" * 600 + "]" * 600 + "\n", id="case=flow-sequences"),
        pytest.param("issuers: " + "{a: " * 600 + "1" + "}" * 600 + "\n", id="case=flow-maps"),
        pytest.param("".join("  " * i + "a:\n" for i in range(600)), id="case=block-maps"),
    ],
)
def test_deeply_nested_input_is_a_config_error(text: str) -> None:
    assert _problems(text)


_yamlish = st.text(
    alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#%@`,?\n \t$0123456789.")), max_size=120
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120) | _yamlish | _yamlish.map(lambda t: MINIMAL + t))
def test_arbitrary_text_only_ever_raises_config_error(text: str) -> None:
    error: ConfigError | None = None
    try:
        load_config_text(text, FILE, {"X": "1"})
    except ConfigError as exc:
        error = exc
    assert error is None or error.problems
