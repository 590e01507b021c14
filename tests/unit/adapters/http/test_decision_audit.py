"""DecisionAuditor: every denial is recorded; allowed traffic is sampled before any event exists."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import replace
from ipaddress import ip_address

import pytest

from glassgate.adapters.http.decision_audit import DecisionAuditor
from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.audit.service import AuditLog, AuditSettings
from glassgate.core.decision import Decision, Outcome
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest

T0 = 1_800_000_000.0
REQUEST = AccessRequest("GET", "/reports/q3", ip_address("127.0.0.1"))
FACTS = RequestFacts(REQUEST, "/reports/q3", b"", "tok", False, False, None)
ALICE = Principal(subject="alice", issuer="https://idp", token_hash="ab" * 32)
ALLOW = Decision(Outcome.ALLOW, "reports", (Reason.ROUTE_OK, Reason.GROUPS_OK))
DENY = Decision(Outcome.DENY, "reports", (Reason.ROUTE_OK, Reason.GROUP_DENYLISTED))


def _audit(
    results: list[GateResult], rate: float, draws: list[float]
) -> tuple[MemoryAuditStore, AuditLog]:
    store = MemoryAuditStore()
    pending = itertools.chain(draws, itertools.repeat(0.0))

    async def main() -> AuditLog:
        log = AuditLog(
            store,
            clock=lambda: T0,
            settings=AuditSettings(sample_rate=rate),
            draw=lambda: next(pending),
        )
        await log.start()
        auditor = DecisionAuditor(log)
        for result in results:
            await auditor.audit(result, T0)
        await log.close()
        return log

    return store, asyncio.run(main())


def _records(store: MemoryAuditStore) -> list[dict[str, object]]:
    return [json.loads(stored.body) for stored in store.scan()]


def _outcomes(store: MemoryAuditStore) -> list[str]:
    return [str(record["outcome"]) for record in _records(store)]


def test_sampled_out_allows_leave_no_record_and_are_counted() -> None:
    store, log = _audit([GateResult(ALLOW, FACTS, ALICE, None, T0)] * 4, 0.5, [0.9, 0.1, 0.7, 0.2])
    assert _outcomes(store) == ["allow", "allow"]
    assert log.counters.sampled_out == 2
    assert all(record["sample_rate"] == 0.5 for record in _records(store))


def test_denials_are_never_sampled() -> None:
    store, log = _audit([GateResult(DENY, FACTS, ALICE, None, T0)] * 3, 0.0, [])
    assert _outcomes(store) == ["deny", "deny", "deny"]
    assert log.counters.sampled_out == 0


def test_report_only_passes_that_would_deny_are_never_sampled() -> None:
    report_only = replace(ALLOW, would_be=DENY)
    store, _ = _audit([GateResult(report_only, FACTS, ALICE, None, T0)], 0.0, [])
    assert _outcomes(store) == ["allow"]


def test_break_glass_decisions_are_durable_and_never_sampled() -> None:
    breakglass = replace(ALICE, kind=CredentialKind.BREAKGLASS)
    store, _ = _audit([GateResult(ALLOW, FACTS, breakglass, None, T0)], 0.0, [])
    assert _outcomes(store) == ["allow"]


def test_a_credential_shaped_path_is_recorded_redacted() -> None:
    hostile = AccessRequest("GET", "/x/basic bearer xxxxxxxx", ip_address("127.0.0.1"))
    facts = replace(FACTS, request=hostile)
    store, log = _audit([GateResult(DENY, facts, ALICE, None, T0)], 1.0, [])
    (record,) = _records(store)
    assert "xxxxxxxx" not in json.dumps(record)
    assert record["subject"] == "alice"
    assert log.counters.minimal == 0


def test_an_event_that_cannot_be_built_becomes_a_minimal_record() -> None:
    # 50 groups of 128 four-byte characters: the details exceed the 16 KiB cap
    crowded = replace(ALICE, groups=frozenset(f"{i:02d}" + "\U0001f600" * 126 for i in range(50)))
    for principal in (crowded, replace(crowded, kind=CredentialKind.BREAKGLASS)):
        store, log = _audit([GateResult(DENY, FACTS, principal, None, T0)], 1.0, [])
        (record,) = _records(store)
        assert record["outcome"] == "deny"
        assert record["route"] == "reports"
        assert record["reasons"] == ["route-ok", "group-denylisted"]
        assert record["details"] == {"minimal": True, "client_ip": "127.0.0.1"}
        assert record["subject"] is None
        assert record["token_hash"] == "ab" * 32
        assert record["privileged"] is (principal.kind is CredentialKind.BREAKGLASS)
        assert log.counters.minimal == 1


def test_ordinary_decisions_are_built_by_the_writer_not_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glassgate.audit import events

    built_on: list[str] = []
    real = events.decision_event

    def spy(*args: object, **kwargs: object) -> object:
        built_on.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(events, "decision_event", spy)
    store = MemoryAuditStore()

    async def main() -> None:
        log = AuditLog(store, clock=lambda: T0)
        await log.start()
        auditor = DecisionAuditor(log)
        for result in (
            GateResult(ALLOW, FACTS, ALICE, None, T0),
            GateResult(DENY, FACTS, None, None, T0),
        ):
            await auditor.audit(result, T0)
        assert built_on == []  # the request side queued typed fields only
        await log.close()

    asyncio.run(main())
    assert _outcomes(store) == ["allow", "deny"]
    assert len(built_on) == 2
    assert threading.main_thread().name not in built_on  # built in the store's thread


def test_a_sampled_allow_carries_its_rate() -> None:
    store, _ = _audit([GateResult(ALLOW, FACTS, ALICE, None, T0)], 0.25, [0.1])
    (record,) = _records(store)
    assert record["sample_rate"] == 0.25


def test_a_bug_in_building_loses_the_batch_counted_never_the_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glassgate.audit import service

    def broken(pending: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "build_decision", broken)
    store, log = _audit([GateResult(DENY, FACTS, ALICE, None, T0)] * 2, 1.0, [])
    assert _outcomes(store) == []
    assert log.counters.lost == 2
