"""API key administration: every change is audited first, and nothing changes without it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import replace
from typing import TypeVar

import pytest

from glassgate.adapters.storage.api_keys.memory import MemoryApiKeyStore
from glassgate.audit.records import AuditEvent, AuditRecord
from glassgate.config.load import load_config_text
from glassgate.config.schema import Config
from glassgate.core.principal import token_fingerprint
from glassgate.errors import AuditUnavailableError, ConfigError, StorageUnavailableError
from glassgate.store_runner import StoreRunner
from glassgate.tokens.api_keys import ApiKeyRecord, issue_api_key
from glassgate.workflows.api_keys import ApiKeyAdmin, NewApiKey, check_new_key, new_key_warnings

T0 = 1_790_000_000.0
_T = TypeVar("_T")


def run(coro: Awaitable[_T]) -> _T:
    async def main() -> _T:
        return await coro

    return asyncio.run(main())


class Audit:
    """Records appended events, and what the store held at the time; can refuse."""

    def __init__(self, store: MemoryApiKeyStore, *, refuse: bool = False) -> None:
        self.store = store
        self.refuse = refuse
        self.events: list[AuditEvent] = []
        self.store_sizes: list[int] = []

    async def append(self, event: AuditEvent) -> AuditRecord:
        if self.refuse:
            raise AuditUnavailableError("the audit store is down")
        self.events.append(event)
        self.store_sizes.append(len(self.store.records()))
        return AuditRecord.build(len(self.events), "0" * 64, event)


RUNNER = StoreRunner("test-api-key-admin")  # one worker thread for the whole module
REQUEST = NewApiKey(
    name="ci-bot",
    subject="svc:ci",
    groups=("robots",),
    routes=("machine",),
    quota_tier="small",
    lifetime=86_400,
)


def admin(store: MemoryApiKeyStore, audit: Audit) -> ApiKeyAdmin:
    return ApiKeyAdmin(store, audit, lambda: T0, RUNNER)


def test_create_audits_before_storing_and_never_records_the_key() -> None:
    store = MemoryApiKeyStore()
    audit = Audit(store)
    issued = run(admin(store, audit).create(REQUEST, "cli:ops"))
    assert store.records() == [issued.record]
    assert audit.store_sizes == [0]  # the audit record came first
    (event,) = audit.events
    assert event.type == "admin.apikey.create"
    assert (event.subject, event.actor, event.jti) == ("svc:ci", "cli:ops", issued.record.key_id)
    assert event.token_hash == token_fingerprint(issued.key.reveal())
    assert event.details["routes"] == ["machine"]
    assert event.details["expires_at"] == "2026-09-22T14:13:20.000000Z"
    text = json.dumps(dict(event.details)) + repr(event)
    secret = issued.key.reveal()
    assert secret not in text
    assert secret[16:] not in text
    assert issued.record.secret_hash not in text
    assert issued.record.expires_at == T0 + 86_400


def test_create_without_an_audit_record_creates_nothing() -> None:
    store = MemoryApiKeyStore()
    with pytest.raises(AuditUnavailableError):
        run(admin(store, Audit(store, refuse=True)).create(REQUEST, "cli:ops"))
    assert store.records() == []


def test_invalid_fields_fail_before_anything_is_audited() -> None:
    store = MemoryApiKeyStore()
    audit = Audit(store)
    bad = NewApiKey(name="has space", subject="svc:ci")
    with pytest.raises(ValueError, match="name"):
        run(admin(store, audit).create(bad, "cli:ops"))
    assert audit.events == []


def test_revoke_audits_first_and_only_once() -> None:
    store = MemoryApiKeyStore()
    audit = Audit(store)
    key_admin = admin(store, audit)
    issued = run(key_admin.create(REQUEST, "cli:ops"))
    first = run(key_admin.revoke(issued.record.key_id, "cli:sec"))
    assert first is not None
    assert first.changed
    assert first.record.revoked_by == "cli:sec"
    second = run(key_admin.revoke(issued.record.key_id, "cli:sec"))
    assert second is not None
    assert not second.changed
    assert [event.type for event in audit.events] == ["admin.apikey.create", "admin.apikey.revoke"]
    assert run(key_admin.revoke("zzzzzzzzzzzz", "cli:sec")) is None
    assert len(audit.events) == 2


def test_revoke_without_an_audit_record_leaves_the_key_active() -> None:
    store = MemoryApiKeyStore()
    issued = run(admin(store, Audit(store)).create(REQUEST, "cli:ops"))
    with pytest.raises(AuditUnavailableError):
        run(admin(store, Audit(store, refuse=True)).revoke(issued.record.key_id, "cli:sec"))
    found = store.get(issued.record.key_id)
    assert found is not None
    assert found.revoked_at is None


class TakenIds(MemoryApiKeyStore):
    """Every id looks taken: the service gives up instead of looping or overwriting."""

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return ApiKeyRecord(key_id=key_id, name="x", subject="s", secret_hash="0" * 64)


def test_a_taken_key_id_is_never_overwritten() -> None:
    store = TakenIds()
    audit = Audit(store)
    with pytest.raises(StorageUnavailableError, match="no free API key id"):
        run(admin(store, audit).create(REQUEST, "cli:ops"))
    assert audit.events == []


class RacingStore(MemoryApiKeyStore):
    """Another writer gets in between the check and the write (or deletes by hand)."""

    def add(self, record: ApiKeyRecord) -> bool:
        return False  # the id was taken after the service checked it was free

    def revoke(self, key_id: str, at: float, by: str | None = None) -> ApiKeyRecord | None:
        return None  # the row was deleted by hand after the service read it


def test_an_id_taken_between_check_and_write_creates_nothing_but_stays_audited() -> None:
    store = RacingStore()
    audit = Audit(store)
    with pytest.raises(StorageUnavailableError, match="taken between the check and the write"):
        run(admin(store, audit).create(REQUEST, "cli:ops"))
    assert [e.type for e in audit.events] == ["admin.apikey.create"]  # over-reports, never under
    assert store.records() == []


def test_a_key_deleted_during_revoke_is_reported_unchanged() -> None:
    store = RacingStore()
    _, record = _stored_key(store)
    result = run(admin(store, Audit(store)).revoke(record.key_id, "cli:ops"))
    assert result is not None
    assert result.changed is False
    assert result.record == record


def test_records_lists_every_key_oldest_first() -> None:
    store = MemoryApiKeyStore()
    first = run(admin(store, Audit(store)).create(REQUEST, "cli:ops")).record
    second = run(admin(store, Audit(store)).create(REQUEST, "cli:ops")).record
    listed = run(admin(store, Audit(store)).records())
    assert [r.key_id for r in listed] == sorted([first.key_id, second.key_id])  # same time


def _stored_key(store: MemoryApiKeyStore) -> tuple[str, ApiKeyRecord]:
    issued = issue_api_key(name="n", subject="svc", now=T0, groups=(), routes=None)
    MemoryApiKeyStore.add(store, issued.record)
    return issued.key.reveal(), issued.record


# --- the request checked against the config (the CLI and the console share these) --------

RULES_CONFIG = """
issuers:
  - {id: idp, issuer: https://idp.example, audiences: [api], jwks_uri: https://idp.example/jwks}
upstreams: [{id: app, targets: ["http://127.0.0.1:9"]}]
quotas: {small: {rate: 1, per: 1s, burst: 1}}
api_keys: {enabled: true}
routes:
  - {id: machine, match: {path: /m/*}, upstream: app, allow: {groups: [robots]}}
  - {id: people, match: {path: /p/*}, upstream: app, issuers: [idp], allow: {groups: [x]}}
"""


def _config(text: str = RULES_CONFIG) -> Config:
    return load_config_text(text, "gw.yaml", {}).config


def test_a_request_naming_known_routes_and_tier_passes() -> None:
    check_new_key(_config(), REQUEST)


def test_every_unknown_route_and_tier_is_reported_at_once() -> None:
    request = replace(REQUEST, routes=("nope", "machine", "gone"), quota_tier="gold")
    with pytest.raises(ConfigError) as caught:
        check_new_key(_config(), request)
    problems = caught.value.problems
    assert [p.location for p in problems] == ["routes", "routes", "quota_tier"]
    assert "no route with id 'nope'" in problems[0].message
    assert "known routes: machine, people" in problems[0].hint
    assert "no quota tier 'gold'" in problems[2].message


def test_warnings_name_disabled_keys_and_issuer_limited_routes() -> None:
    assert new_key_warnings(_config(), REQUEST) == []
    everywhere = replace(REQUEST, routes=None)
    assert new_key_warnings(_config(), everywhere) == [
        "route 'people' accepts only issuers idp: API keys are refused there (issuer-denied)"
    ]
    disabled = _config(RULES_CONFIG.replace("api_keys: {enabled: true}\n", ""))
    assert new_key_warnings(disabled, REQUEST)[0].startswith("api_keys.enabled is false")
