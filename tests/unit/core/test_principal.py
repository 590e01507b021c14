"""core.principal: the one token fingerprint."""

from __future__ import annotations

import hashlib

import pytest

from glassgate.core.principal import token_fingerprint


@pytest.mark.parametrize(
    "raw", [pytest.param("abc", id="case=str"), pytest.param(b"abc", id="case=bytes")]
)
def test_fingerprint_is_sha256_hex_of_the_whole_credential(raw: str | bytes) -> None:
    assert token_fingerprint(raw) == hashlib.sha256(b"abc").hexdigest()


def test_fingerprint_of_text_is_its_utf8_bytes() -> None:
    assert token_fingerprint("é") == token_fingerprint("é".encode())
    assert token_fingerprint("a") != token_fingerprint("b")
