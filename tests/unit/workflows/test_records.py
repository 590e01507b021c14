"""Typed records over the store: kinds, versions, and unreadable documents refused."""

from __future__ import annotations

import asyncio

import pytest

from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.errors import ConcurrentChangeError, StorageUnavailableError
from glassgate.store_runner import StoreRunner
from glassgate.workflows.identities import IdentityKind, LocalIdentity, new_identity
from glassgate.workflows.records import Change, Records
from glassgate.workflows.stored import WorkflowRecord


def test_records_round_trip_and_refuse_what_does_not_fit() -> None:
    store, runner = MemoryWorkflowStore(), StoreRunner("test-records")

    async def body() -> None:
        records = Records(store, runner)
        identity = new_identity(IdentityKind.ACCOUNT, "ops", "cli:root", 1.0)
        await records.commit(Change(identity))
        found = await records.get(LocalIdentity, "breakglass:ops")
        assert found is not None
        assert (found.value, found.version) == (identity, 1)
        assert [f.value for f in await records.find(LocalIdentity, a="breakglass")] == [identity]
        with pytest.raises(ConcurrentChangeError):
            await records.commit(Change(identity))  # already there
        with pytest.raises(TypeError, match="not a workflow record"):
            await records.commit(Change("a string"))
        store.commit([WorkflowRecord("bg-identity", "breakglass:bad", 1, {"kind": "?"})])
        with pytest.raises(StorageUnavailableError, match="unreadable"):
            await records.get(LocalIdentity, "breakglass:bad")
        assert await records.purge(LocalIdentity, 10.0) == 0

    try:
        asyncio.run(body())
    finally:
        runner.close()
