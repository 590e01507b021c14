"""A reload that changes the locked break-glass policy is audited (durably) and alerted."""

from __future__ import annotations

import asyncio

import pytest

from glassgate.adapters.alerts.fanout import AlertFanout
from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.app.breakglass import record_policy_change
from glassgate.audit.records import parse_record
from glassgate.audit.service import AuditLog
from glassgate.config.load import load_config_text
from glassgate.errors import AuditUnavailableError, StorageUnavailableError
from tests.support.breakglass import RecordingSink

YAML = """
issuers: [{id: idp, issuer: "https://idp.example", audiences: [api]}]
upstreams: [{id: okta, targets: ["http://127.0.0.1:9"]}]
routes:
  - {id: okta-admin, match: {path: /api/v1/*}, upstream: okta}
breakglass:
  accounts: [{name: ops, networks: [10.0.0.0/24]}]
  custodians: [alice, bob, carol]
  quorum: QUORUM
  recovery_routes: [{route: okta-admin}]
"""


def _loaded(quorum: int):  # type: ignore[no-untyped-def]
    return load_config_text(YAML.replace("QUORUM", str(quorum)), "gw.yaml", {})


def test_a_changed_quorum_is_recorded_and_alerted() -> None:
    store, sink = MemoryAuditStore(), RecordingSink()

    async def body() -> list[str]:
        audit = AuditLog(store, clock=lambda: 1000.0)
        alerts = AlertFanout([sink])
        same = await record_policy_change(
            _loaded(2), _loaded(2), audit, alerts, path="gw.yaml", clock=lambda: 1000.0
        )
        assert same == []
        changed = await record_policy_change(
            _loaded(2), _loaded(3), audit, alerts, path="gw.yaml", clock=lambda: 1000.0
        )
        await audit.close()
        return changed

    assert asyncio.run(body()) == ["breakglass.quorum"]
    (stored,) = store.scan(0, 10)
    record = parse_record(stored.body)
    assert record.type == "breakglass.policy.changed"
    assert record.details["changed"] == ["breakglass.quorum"]
    assert sink.kinds() == ["breakglass.policy.changed"]


def test_an_unrecordable_change_is_refused() -> None:
    class Broken(MemoryAuditStore):
        def append(self, events):  # type: ignore[no-untyped-def]
            raise StorageUnavailableError("disk full")

    async def body() -> None:
        audit = AuditLog(Broken(), clock=lambda: 1000.0)
        try:
            with pytest.raises(AuditUnavailableError):
                await record_policy_change(
                    _loaded(2),
                    _loaded(3),
                    audit,
                    AlertFanout(()),
                    path="gw.yaml",
                    clock=lambda: 1.0,
                )
        finally:
            await audit.close()

    asyncio.run(body())
