"""Record bytes from orjson are the bytes ``canonical_json`` wrote before (issue 10 direction 3).

Canonical JSON is the contract: a log written before the writer switched to
orjson must still verify, and a log that mixes old and new records too.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.adapters.storage.audit import open_audit_store
from glassgate.adapters.storage.target import StorageTarget
from glassgate.audit import records
from glassgate.audit.chain import verify
from glassgate.audit.records import canonical_json, record_json
from tests.support.audit import event

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "\u2028", "é", "😀", "\n\t\r\b\f"])
# Floats as records hold them (sample rates, retry-after seconds): no exponent form, where
# json writes 1e-06 and orjson 1e-6 (both verify: stored bytes are hashed, never rebuilt).
_FLOAT = st.floats(min_value=0.0001, max_value=1e6, allow_nan=False).filter(
    lambda x: "e" not in repr(x)
)
_SCALAR = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT | _FLOAT
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _JSON, max_size=8))
def test_record_json_is_canonical_json(value: dict[str, Any]) -> None:
    assert record_json(value) == canonical_json(value)


def test_integers_beyond_64_bits_fall_back_to_json() -> None:
    assert record_json({"n": 2**70}) == canonical_json({"n": 2**70})


def test_a_log_written_with_json_still_verifies_and_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = StorageTarget("sqlite", str(tmp_path / "audit.db"))
    store = open_audit_store(target, migrate=True)
    try:
        with monkeypatch.context() as old:  # the writer as it was: json.dumps
            old.setattr(records, "record_json", canonical_json)
            store.append([event(i, details={"retry_after": 1e-06, "n": i}) for i in range(3)])
        store.append([event(i, details={"retry_after": 1e-06, "n": i}) for i in range(3, 6)])
        stored = store.scan()
    finally:
        store.close()
    bodies = [item.body for item in stored]
    assert b'"retry_after":1e-06' in bodies[0]  # the old bytes are kept as they were
    assert b'"retry_after":1e-6' in bodies[3]
    assert verify(stored).records == 6
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        row = conn.execute("SELECT body FROM audit_records WHERE seq = 1").fetchone()
    assert json.loads(row[0])["details"]["retry_after"] == 1e-06
