"""directory.scim_tokens: issued and rotated with an audit record first; digests only."""

from __future__ import annotations

import asyncio

import pytest

from glassgate.adapters.storage.directory import MemoryDirectoryStore
from glassgate.errors import AuditUnavailableError
from glassgate.workflows.scim_tokens import ScimTokens
from tests.unit.directory._fakes import DirectRunner, RecordingAudit


def _tokens(
    audit: RecordingAudit | None = None,
) -> tuple[ScimTokens, MemoryDirectoryStore, RecordingAudit]:
    store = MemoryDirectoryStore()
    audit = audit or RecordingAudit()
    return ScimTokens(store, DirectRunner(), audit, lambda: 1000.0), store, audit


def test_an_issued_token_authenticates_and_only_its_digest_is_kept() -> None:
    tokens, store, audit = _tokens()
    issued = asyncio.run(tokens.issue("okta", "cli:ops"))
    raw = issued.key.reveal()
    assert asyncio.run(tokens.authenticate(raw)) == "scim:okta"
    (record,) = store.scim_tokens()
    assert raw not in repr(record)
    assert raw.split("_")[-1] not in repr(store.__dict__)
    (event,) = audit.events
    assert (event.type, event.actor, event.jti) == (
        "admin.scim.token.issue",
        "cli:ops",
        record.key_id,
    )
    assert raw not in repr(event)


@pytest.mark.parametrize(
    "raw", ["", "Bearer x", "gg_", "gg_aaaaaaaaaaaa_" + "x" * 43, "x" * 10_000]
)
def test_anything_else_does_not_authenticate(raw: str) -> None:
    tokens, _, _ = _tokens()
    asyncio.run(tokens.issue("okta", "cli:ops"))
    assert asyncio.run(tokens.authenticate(raw)) is None


def test_a_wrong_secret_for_a_real_id_does_not_authenticate() -> None:
    tokens, _, _ = _tokens()
    raw = asyncio.run(tokens.issue("okta", "cli:ops")).key.reveal()
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert asyncio.run(tokens.authenticate(forged)) is None


def test_rotation_revokes_every_other_token_at_once() -> None:
    tokens, _, audit = _tokens()
    old = asyncio.run(tokens.issue("okta", "cli:ops")).key.reveal()
    new = asyncio.run(tokens.issue("okta-2", "cli:ops", rotate=True)).key.reveal()
    assert asyncio.run(tokens.authenticate(old)) is None
    assert asyncio.run(tokens.authenticate(new)) == "scim:okta-2"
    assert [e.type for e in audit.events] == ["admin.scim.token.issue", "admin.scim.token.rotate"]


def test_no_audit_record_no_token() -> None:
    tokens, store, _ = _tokens(RecordingAudit(down=True))
    with pytest.raises(AuditUnavailableError):
        asyncio.run(tokens.issue("okta", "cli:ops"))
    assert store.scim_tokens() == []


def test_token_names_are_checked() -> None:
    tokens, _, _ = _tokens()
    with pytest.raises(ValueError, match="name"):
        asyncio.run(tokens.issue("bad name!", "cli:ops"))


def test_a_taken_id_issues_nothing() -> None:
    from glassgate.errors import StorageUnavailableError

    class Full(MemoryDirectoryStore):
        def add_scim_token(self, record):  # type: ignore[no-untyped-def]
            return False

    tokens = ScimTokens(Full(), DirectRunner(), RecordingAudit(), lambda: 1.0)
    with pytest.raises(StorageUnavailableError, match="taken"):
        asyncio.run(tokens.issue("okta", "cli:ops"))
