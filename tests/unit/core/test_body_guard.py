"""The recovery route's content guard: size cap first, JSON only, CEL must say true."""

from __future__ import annotations

import pytest

from glassgate.core.body_guard import GuardVerdict, compile_body_guard

GUARD = compile_body_guard(
    'has(body.domain) && body.domain in ["example.com", "corp.example"]', 256
)


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        pytest.param(b'{"domain":"example.com","sso":{"x":1}}', GuardVerdict.OK, id="case=allowed"),
        pytest.param(b'{"domain":"evil.example"}', GuardVerdict.DENIED, id="case=other-domain"),
        pytest.param(b'{"other":1}', GuardVerdict.DENIED, id="case=no-domain"),
        pytest.param(b'{"domain":["example.com"]}', GuardVerdict.DENIED, id="case=wrong-type"),
        pytest.param(b"", GuardVerdict.DENIED, id="case=empty-is-null"),
        pytest.param(b"{", GuardVerdict.NOT_JSON, id="case=truncated"),
        pytest.param(b"\xff\xfe", GuardVerdict.NOT_JSON, id="case=not-utf8"),
        pytest.param(b'{"domain":NaN}', GuardVerdict.NOT_JSON, id="case=nan"),
        pytest.param(b"[" * 100 + b"]" * 100, GuardVerdict.NOT_JSON, id="case=deep"),
        pytest.param(
            b'{"domain":"example.com","pad":"' + b"x" * 300 + b'"}',
            GuardVerdict.TOO_LARGE,
            id="case=over-cap",
        ),
        pytest.param(b'"example.com"', GuardVerdict.DENIED, id="case=not-an-object"),
    ],
)
def test_guard(body: bytes, verdict: GuardVerdict) -> None:
    assert GUARD.check(body, "PUT", "/api/v1/idps/1") is verdict


def test_guard_sees_method_and_path() -> None:
    guard = compile_body_guard('method == "PUT" && path.startsWith("/api/v1/idps/")', 100)
    assert guard.check(b"{}", "PUT", "/api/v1/idps/7") is GuardVerdict.OK
    assert guard.check(b"{}", "DELETE", "/api/v1/idps/7") is GuardVerdict.DENIED


def test_bad_cel_and_cap_are_load_errors() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the parser's own message
        compile_body_guard("body.domain in [", 10)
    with pytest.raises(ValueError, match="max_body_bytes"):
        compile_body_guard("true", 0)


def test_escapes_and_brackets_inside_strings_do_not_count_as_depth() -> None:
    guard = compile_body_guard("body.note != ''", 4096)
    tricky = b'{"note": "a \\\\ b \\" [[[[ {{{{ ' + b"[" * 40 + b'"}'
    assert guard.check(tricky, "PUT", "/x") is GuardVerdict.OK
