from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.audit.chain import GENESIS, link
from glassgate.audit.export import (
    checkpoint_to_rfc5424,
    frame_octet_counted,
    severity_of,
    to_jsonl,
    to_rfc5424,
)
from tests.support.audit import checkpoint_at, event, make_chain

# RFC 5424 section 6: HEADER SP STRUCTURED-DATA SP MSG
RFC5424 = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) glassgate - (?P<msgid>\S{1,32}) "
    rb"\[glassgate@32473 (?P<sd>.*?)\] \xef\xbb\xbf(?P<msg>\{.*\})$",
    re.S,
)


def test_jsonl_is_one_canonical_record_per_line() -> None:
    records = make_chain(3)
    assert to_jsonl(records).splitlines() == [record.body for record in records]


def test_rfc5424_message_layout() -> None:
    record = make_chain(2)[1]  # a denial
    message = to_rfc5424(record, hostname="gw-1")
    match = RFC5424.match(message)
    assert match is not None, message
    assert int(match["pri"]) == 10 * 8 + 4  # authpriv.warning
    assert match["ts"] == record.ts.encode()
    assert match["host"] == b"gw-1"
    assert match["msgid"] == b"decision"
    assert b'seq="2"' in match["sd"]
    assert f'hash="{record.hash}"'.encode() in match["sd"]
    assert match["msg"] == record.body


@pytest.mark.parametrize(
    ("overrides", "severity"),
    [
        ({}, 6),
        ({"outcome": "deny"}, 4),
        ({"outcome": "step-up"}, 5),
        ({"type": "admin.rules-apply", "outcome": "ok"}, 5),
        ({"type": "breakglass.activate", "outcome": "ok"}, 1),
    ],
)
def test_severity(overrides: dict[str, object], severity: int) -> None:
    record = link(GENESIS, [event(0, **overrides)])[0]
    assert severity_of(record) == severity


def test_structured_data_values_are_escaped() -> None:
    record = link(GENESIS, [event(0, subject='a"b]c\\d')])[0]
    message = to_rfc5424(record, hostname="gw")
    assert b'subject="a\\"b\\]c\\\\d"' in message


def test_header_fields_drop_unprintable_characters() -> None:
    record = make_chain(1)[0]
    assert b" gw1 glassgate " in to_rfc5424(record, hostname="gw 1\n")
    assert b" - glassgate " in to_rfc5424(record, hostname=" ")


def test_facility_is_checked() -> None:
    with pytest.raises(ValueError, match="facility"):
        to_rfc5424(make_chain(1)[0], hostname="gw", facility=24)


def test_checkpoint_message_carries_the_signed_line() -> None:
    checkpoint = checkpoint_at(make_chain(1)[0], Ed25519PrivateKey.generate())
    message = checkpoint_to_rfc5424(checkpoint, hostname="gw")
    match = RFC5424.match(message)
    assert match is not None
    assert match["msgid"] == b"checkpoint"
    assert match["msg"] == checkpoint.to_json()


def test_octet_counting_frame() -> None:
    assert frame_octet_counted("héllo".encode()) == b"6 h\xc3\xa9llo"
