"""The record codec: round trips, and every document that does not fit is refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pytest

from glassgate.workflows.approvals import ApprovalRule
from glassgate.workflows.codec import decode, encode
from glassgate.workflows.requests import BreakglassRequest, RequestKind, file_request


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True, slots=True)
class Inner:
    name: str


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    count: int
    ratio: float
    flag: bool
    raw: bytes
    colour: Colour
    pair: tuple[str, int]
    many: tuple[str, ...]
    group: frozenset[str]
    inner: Inner
    maybe: str | None = None


GOOD = Sample(
    "t",
    2,
    0.5,
    True,
    b"\x00\xff",
    Colour.RED,
    ("a", 1),
    ("x", "y"),
    frozenset({"b", "a"}),
    Inner("n"),
)


def test_round_trip() -> None:
    document = encode(GOOD)
    assert document["raw"] == "AP8="
    assert document["group"] == ["a", "b"]
    assert decode(Sample, document) == GOOD
    assert decode(Sample, {**document, "ratio": 1}).ratio == 1.0  # an int is a JSON number


def test_a_real_record_round_trips() -> None:
    request, _ = file_request(
        "R1",
        RequestKind.ACTIVATION,
        "ops",
        "breakglass:ops",
        reason="r",
        incident_ref="INC-1",
        scope=("a",),
        session_ttl=60.0,
        rule=ApprovalRule.quorum("c", 2),
        now=1.0,
        ttl=10.0,
    )
    assert decode(BreakglassRequest, encode(request)) == request


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", None),
        ("text", 7),
        ("count", True),
        ("count", "2"),
        ("ratio", "0.5"),
        ("ratio", False),
        ("raw", 5),
        ("colour", "blue"),
        ("pair", ["a"]),
        ("pair", "ab"),
        ("many", "xy"),
        ("group", "ab"),
        ("inner", "n"),
        ("inner", {"name": "n", "extra": 1}),
        ("unknown", 1),
    ],
)
def test_documents_that_do_not_fit_are_refused(field: str, value: object) -> None:
    document = {**encode(GOOD), field: value}
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails for its own reason
        decode(Sample, document)


def test_missing_fields_and_unsupported_types_are_refused() -> None:
    document = encode(GOOD)
    del document["text"]
    with pytest.raises(ValueError, match="not a stored Sample"):
        decode(Sample, document)

    @dataclass(frozen=True)
    class Odd:
        value: list[str]

    with pytest.raises(ValueError, match="cannot decode"):
        decode(Odd, {"value": ["a"]})

    @dataclass(frozen=True)
    class Odder:
        value: object

    with pytest.raises(ValueError, match="cannot decode"):
        decode(Odder, {"value": 1})


def test_only_optional_unions_are_records() -> None:
    @dataclass(frozen=True)
    class Either:
        value: str | int

    with pytest.raises(ValueError, match=r"only 'X \| None' unions"):
        decode(Either, {"value": 3})
