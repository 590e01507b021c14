"""Redaction reaches a fixed point: what ``redact_text`` returns never trips the screen (issue 11 E)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.audit.screening import check_text, redact_text

_FRAGMENTS = (
    "basic",
    "Basic",
    "bearer",
    "BEARER",
    " ",
    "  ",
    "\t",
    "/",
    ".",
    "...",
    "xxxxxxxx",
    "[redacted]",
    "eyJ",
    "eyJhbGci",
    "eyJhbGciOi.eyJzdWIi.",
    "abcd",
    "gg_",
    "gg_abcdefghijkl_",
    "ABCDEFGHIJKLMNOPQRST",
    "_",
    "-",
)


def test_a_scheme_word_before_a_credential_is_redacted_once() -> None:
    cleaned = redact_text("/x/basic bearer xxxxxxxx")
    check_text(cleaned, "path")
    assert "xxxxxxxx" not in cleaned


def test_nested_scheme_words_reach_a_fixed_point() -> None:
    cleaned = redact_text("/" + "basic " * 40 + "bearer xxxxxxxx")
    check_text(cleaned, "path")


def test_truncation_cannot_create_a_credential() -> None:
    # cut at the limit, the "..." suffix would complete "bearer xxxxx..." or a JWT's dot
    for text in ("a" * 10 + "bearer xxxxx" + "y" * 50, "a" * 8 + "eyJabcd.efgh" + "z" * 50):
        cleaned = redact_text(text, 23)
        check_text(cleaned, "path")
        assert len(cleaned) <= 23


def test_hostile_nesting_costs_a_bounded_number_of_passes() -> None:
    cleaned = redact_text("basic " * 2000 + "bearer xxxxxxxx", 16_384)
    check_text(cleaned, "path")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=24), st.integers(min_value=8, max_value=600))
def test_redaction_is_a_fixed_point(parts: list[str], limit: int) -> None:
    cleaned = redact_text("".join(parts), limit)
    check_text(cleaned, "value")
    assert len(cleaned) <= limit
    assert redact_text(cleaned, limit) == cleaned
