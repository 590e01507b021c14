"""audit.anchors: checkpoints read back from wherever an outside system kept them (issue 11 audit 2)."""

from __future__ import annotations

import contextlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.audit.anchors import checkpoints_in
from glassgate.audit.export import checkpoint_to_rfc5424, frame_octet_counted, to_rfc5424
from glassgate.errors import ChainBrokenError
from tests.support.audit import checkpoint_at, make_chain

KEY = Ed25519PrivateKey.generate()
RECORDS = make_chain(5)
FIRST, LAST = checkpoint_at(RECORDS[1], KEY), checkpoint_at(RECORDS[4], KEY)


def _webhook_item(checkpoint: object) -> bytes:
    return b'{"checkpoint":' + checkpoint.to_json() + b',"type":"audit.checkpoint"}'  # type: ignore[attr-defined]


def test_checkpoint_file_lines() -> None:
    data = FIRST.to_json() + b"\n" + LAST.to_json() + b"\n"
    assert checkpoints_in(data) == [FIRST, LAST]


def test_syslog_messages_among_other_lines() -> None:
    lines = [
        b"Dec  6 01:00:00 host sshd[1]: Accepted publickey for root",
        to_rfc5424(RECORDS[0], hostname="gw"),
        checkpoint_to_rfc5424(FIRST, hostname="gw"),
        to_rfc5424(RECORDS[3], hostname="gw"),
        checkpoint_to_rfc5424(LAST, hostname="gw"),
    ]
    assert checkpoints_in(b"\n".join(lines)) == [FIRST, LAST]


def test_octet_counted_syslog_stream() -> None:
    stream = frame_octet_counted(checkpoint_to_rfc5424(LAST, hostname="gw"))
    assert checkpoints_in(stream) == [LAST]


def test_webhook_batches_one_per_line_or_pretty_printed() -> None:
    batch = b'{"events":[' + RECORDS[0].body + b"," + _webhook_item(LAST) + b"]}"
    assert checkpoints_in(batch + b"\n") == [LAST]
    pretty = json.dumps(json.loads(batch), indent=2).encode()
    assert checkpoints_in(pretty) == [LAST]
    assert checkpoints_in(_webhook_item(FIRST)) == [FIRST]


def test_records_and_noise_hold_no_checkpoint() -> None:
    data = b"\n".join([RECORDS[0].body, b"not json", b"{}", b"[1,2]", b'{"events":5}', b""])
    assert checkpoints_in(data) == []


def test_a_mangled_checkpoint_is_reported_not_skipped() -> None:
    fields = json.loads(LAST.to_json())
    fields["seq"] = "5"
    with pytest.raises(ChainBrokenError) as info:
        checkpoints_in(b"ok line\n" + json.dumps(fields).encode() + b"\n", source="siem.log")
    assert info.value.kind == "forged-checkpoint"
    assert "siem.log:2" in str(info.value)


def test_duplicates_are_kept_once_in_order() -> None:
    data = b"\n".join([LAST.to_json(), FIRST.to_json(), LAST.to_json()])
    assert checkpoints_in(data) == [FIRST, LAST]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_hostile_input_only_ever_raises_chain_broken(data: bytes) -> None:
    with contextlib.suppress(ChainBrokenError):
        checkpoints_in(data)


def test_deeply_nested_input_is_not_a_crash() -> None:
    data = b'{"events":' * 10_000 + b"[]" + b"}" * 10_000
    with contextlib.suppress(ChainBrokenError):
        checkpoints_in(data)
