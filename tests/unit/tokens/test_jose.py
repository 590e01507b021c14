"""The hazmat wrapper: joserfc in, glassgate errors out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from glassgate.errors import (
    DisallowedAlgorithmError,
    KeyMismatchError,
    SignatureInvalidError,
    TokenMalformedError,
    UnsupportedHeaderError,
)
from glassgate.tokens import _jose
from tests.support import tokens as t

SRC = Path(_jose.__file__).resolve().parents[1]


def test_docstring_opens_with_a_hazmat_warning() -> None:
    assert (_jose.__doc__ or "").startswith("HAZMAT")


VERIFYING_MODULES = [
    *(SRC / "tokens" / f"{name}.py" for name in ("__init__", "cache", "claims", "headers")),
    *(SRC / "tokens" / f"{name}.py" for name in ("issuers", "keyring", "mapping", "verifier")),
    *(SRC / "adapters" / "idp").glob("*.py"),
]


@pytest.mark.parametrize("path", VERIFYING_MODULES, ids=lambda p: f"module={p.stem}")
def test_verification_reaches_joserfc_only_through_the_hazmat_module(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not any(name.split(".")[0] == "joserfc" for name in names), path


def test_only_the_tokens_package_imports_the_hazmat_module() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "_jose" in text and path.parent.name != "tokens":
            pytest.fail(f"{path} reaches into glassgate.tokens._jose")


def test_extract_returns_header_payload_and_handle() -> None:
    header, payload, signed = _jose.extract(t.token().encode())
    assert header == t.base_header()
    assert payload.startswith(b'{"iss"')
    assert signed is not None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param(b"", TokenMalformedError, id="case=empty"),
        pytest.param(b"a.b", TokenMalformedError, id="case=two-segments"),
        pytest.param(b"@@.e30.", TokenMalformedError, id="case=bad-base64"),
        pytest.param(t.segment([]).encode() + b".e30.", TokenMalformedError, id="case=array"),
        pytest.param(t.segment({}).encode() + b".e30.", DisallowedAlgorithmError, id="case=no-alg"),
        pytest.param(
            t.segment({"alg": "RS256", "b64": False}).encode() + b".e30.",
            UnsupportedHeaderError,
            id="case=b64-without-crit",
        ),
        pytest.param(
            t.segment({"alg": "RS256", "x": "y" * 9000}).encode() + b".e30.",
            TokenMalformedError,
            id="case=header-too-large",
        ),
    ],
)
def test_extract_translates_every_failure(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _jose.extract(raw)


def test_verify_signature_accepts_the_right_key() -> None:
    _, _, signed = _jose.extract(t.token().encode())
    key, _ = _jose.import_jwk(t.public_jwk("rsa-1"))
    _jose.verify_signature(signed, key, "RS256")


def test_verify_signature_refuses_another_key() -> None:
    _, _, signed = _jose.extract(t.token().encode())
    key, _ = _jose.import_jwk(t.public_jwk("rsa-2"))
    with pytest.raises(SignatureInvalidError):
        _jose.verify_signature(signed, key, "RS256")


def test_verify_signature_refuses_a_key_of_the_wrong_type() -> None:
    _, _, signed = _jose.extract(t.token().encode())
    key, _ = _jose.import_jwk(t.public_jwk("ec-1"))
    with pytest.raises(KeyMismatchError):
        _jose.verify_signature(signed, key, "RS256")


def test_verify_signature_refuses_an_alg_other_than_the_header() -> None:
    _, _, signed = _jose.extract(t.token().encode())
    key, _ = _jose.import_jwk(t.public_jwk("rsa-1"))
    with pytest.raises(DisallowedAlgorithmError):
        _jose.verify_signature(signed, key, "PS256")


@pytest.mark.parametrize("alg", ["HS256", "none", "RS384", "ES384"])
def test_verify_signature_never_runs_other_algorithms(alg: str) -> None:
    _, _, signed = _jose.extract(t.token().encode())
    key, _ = _jose.import_jwk(t.public_jwk("rsa-1"))
    with pytest.raises(DisallowedAlgorithmError):
        _jose.verify_signature(signed, key, alg)


def test_eddsa_verifies_without_a_warning() -> None:
    raw = t.token(kid="ed-1", alg="EdDSA")
    _, _, signed = _jose.extract(raw.encode())
    key, _ = _jose.import_jwk(t.public_jwk("ed-1"))
    _jose.verify_signature(signed, key, "EdDSA")  # filterwarnings=error would fail here


def test_import_jwk_keeps_only_the_public_part() -> None:
    key, facts = _jose.import_jwk(t.private_jwks()["rsa-1"])
    assert not key.is_private
    assert (facts.kty, facts.bits, facts.alg, facts.use) == ("RSA", 2048, "RS256", "sig")
    assert facts.thumbprint


def test_import_jwk_reports_curves() -> None:
    assert _jose.import_jwk(t.public_jwk("ec-1"))[1].crv == "P-256"
    assert _jose.import_jwk(t.public_jwk("ed-1"))[1].crv == "Ed25519"


def test_import_jwk_of_a_small_rsa_key_does_not_warn() -> None:
    assert _jose.import_jwk(t.public_jwk("rsa-small"))[1].bits == 1024


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"kty": "oct", "k": "c2VjcmV0"}, id="case=symmetric"),
        pytest.param({"kty": "XYZ"}, id="case=unknown-kty"),
        pytest.param({"n": "AQAB"}, id="case=no-kty"),
        pytest.param({"kty": 1}, id="case=kty-not-string"),
        pytest.param({"kty": "RSA", "e": "AQAB"}, id="case=rsa-without-n"),
        pytest.param({"kty": "RSA", "n": "!!", "e": "AQAB"}, id="case=rsa-bad-base64"),
        pytest.param({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, id="case=ec-off-curve"),
        pytest.param({**t.public_jwk("rsa-1"), "use": "bogus"}, id="case=bad-use"),
        pytest.param({**t.public_jwk("rsa-1"), "key_ops": "verify"}, id="case=key-ops-string"),
        pytest.param({**t.public_jwk("rsa-1"), "alg": 5}, id="case=alg-not-string"),
    ],
)
def test_import_jwk_refuses_unusable_keys(data: dict[str, object]) -> None:
    with pytest.raises(KeyMismatchError):
        _jose.import_jwk(data)


def test_key_ops_are_reported() -> None:
    facts = _jose.import_jwk({**t.public_jwk("rsa-1"), "key_ops": ["verify"]})[1]
    assert facts.key_ops == ("verify",)
