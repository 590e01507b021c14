from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.audit.chain import GENESIS, StoredRecord, link, verify
from glassgate.audit.records import (
    AuditEvent,
    AuditRecord,
    canonical_json,
    format_ts,
    parse_record,
    parse_ts,
)
from glassgate.core.principal import token_fingerprint
from tests.support.audit import T0, event

VECTOR = Path(__file__).parents[2] / "vectors" / "audit" / "chain_v1.jsonl"
VECTOR_HEAD = "38df72e74d418fa9a1c242195f35be64aaacb2df4f63b5d06d3995615d6628e2"


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": "ü", "c": [1, {"z": None, "y": True}]}) == (
        '{"a":"ü","b":1,"c":[1,{"y":true,"z":null}]}'.encode()
    )


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": math.nan})


def test_known_answer_vector_rebuilds_byte_for_byte() -> None:
    lines = VECTOR.read_bytes().splitlines()
    rebuilt = link(
        GENESIS,
        [
            event(0),
            event(1),
            event(
                2,
                type="breakglass.activate",
                outcome="ok",
                actor="custodian-1",
                subject="bg-admin",
                details={"incident": "INC-42", "note": "Grüße ✓"},
            ),
        ],
    )
    assert [record.body for record in rebuilt] == lines
    report = verify([StoredRecord(line) for line in lines])
    assert report.head.hash == VECTOR_HEAD


def test_record_links_previous_hash_and_parses_back() -> None:
    first, second = link(GENESIS, [event(0), event(1)])
    assert first.prev == GENESIS.hash
    assert second.prev == first.hash
    again = parse_record(second.body)
    assert again == second
    assert again.as_dict()["seq"] == 2


def test_privileged_flag_is_forced_for_non_decision_types() -> None:
    record = AuditRecord.build(1, GENESIS.hash, event(0, type="config.reload", outcome="ok"))
    assert record.privileged is True
    assert event(0, privileged=True).is_privileged
    assert not event(0).is_privileged


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "client_secret",
        "access_token",
        "refresh-token",
        "Authorization",
        "id_token",
        "apiKey",
        "private_key",
        "cookie",
        "SAMLAssertion",
        "credentials",
    ],
)
def test_secret_keys_are_refused_anywhere_in_details(key: str) -> None:
    with pytest.raises(ValueError, match="never carry secrets"):
        event(0, details={key: "x"})
    with pytest.raises(ValueError, match="never carry secrets"):
        event(0, details={"nested": [{"deeper": {key: "x"}}]})


@pytest.mark.parametrize("key", ["token_hash", "token_type", "tokenKind", "jti_seen"])
def test_harmless_token_keys_are_allowed(key: str) -> None:
    assert event(0, details={key: "abc"}).details[key] == "abc"


@pytest.mark.parametrize(
    "value",
    [
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
        "Bearer abcdefghijklmnop",
        "basic dXNlcjpwYXNzd29yZA==",
    ],
)
def test_token_looking_values_are_refused_in_fields_and_details(value: str) -> None:
    with pytest.raises(ValueError, match="looks like a token"):
        event(0, details={"note": value})
    with pytest.raises(ValueError, match="looks like a token"):
        event(0, subject=value)
    with pytest.raises(ValueError, match="looks like a token"):
        event(0, reasons=(value,))


def test_token_is_recorded_only_as_fingerprint() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    record = AuditRecord.build(1, GENESIS.hash, event(0, token_hash=token_fingerprint(token)))
    assert token.encode() not in record.body
    assert record.token_hash == token_fingerprint(token)
    with pytest.raises(ValueError, match="SHA-256 hex"):
        event(0, token_hash="not-a-hash")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "Decision"}, "dotted kebab-case"),
        ({"type": "a..b"}, "dotted kebab-case"),
        ({"outcome": "Allowed!"}, "kebab-case"),
        ({"at": math.inf}, "epoch seconds"),
        ({"at": -1.0}, "epoch seconds"),
        ({"sample_rate": 0.0}, "sample_rate"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"subject": "x" * 513}, "longer than"),
        ({"details": {"blob": "x" * 20_000}}, "exceed"),
        ({"details": {"f": math.nan}}, "finite"),
        ({"details": {"when": object()}}, "not JSON"),
        ({"details": {1: "x"}}, "must be a string"),
    ],
)
def test_invalid_events_are_refused_at_construction(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event(0, **overrides)


def test_details_are_frozen() -> None:
    source = {"a": 1}
    built = event(0, details=source)
    source["a"] = 2
    assert built.details["a"] == 1
    with pytest.raises(TypeError):
        built.details["a"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"v":1}',
        b"\xff\xfe",
    ],
)
def test_parse_record_rejects_non_records(body: bytes) -> None:
    with pytest.raises(ValueError, match="record"):
        parse_record(body)


def test_parse_record_rejects_wrong_types_and_versions() -> None:
    fields = json.loads(link(GENESIS, [event(0)])[0].body)
    for name, bad in (("seq", "1"), ("seq", True), ("privileged", 1), ("v", 2)):
        broken = dict(fields, **{name: bad})
        with pytest.raises(ValueError, match=r"(wrong type|version)"):
            parse_record(canonical_json(broken))


def test_timestamps_are_fixed_width_utc_and_round_trip() -> None:
    text = format_ts(T0 + 0.25)
    assert text == "2026-09-21T14:13:20.250000Z"
    assert parse_ts(text) == T0 + 0.25
    assert parse_ts("2026-09-21T14:13:20") == T0
    assert parse_ts("2026-09-21T16:13:20+02:00") == T0


def test_event_type_accepts_dotted_names() -> None:
    assert AuditEvent(type="grant.approve", outcome="ok", at=T0).is_privileged


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_format_ts_is_datetimes_text(epoch: float) -> None:
    assert format_ts(epoch) == datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("epoch", [0.0, 0.9999995, 1.0000005, 1_800_000_000.4999995, 1e9 + 0.5e-6])
def test_format_ts_rounds_as_datetime_does(epoch: float) -> None:
    assert format_ts(epoch) == datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
