"""Imports go through the service like every change: a bad HRIS sync is refused whole."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from glassgate.directory.formats.batch import to_changes
from glassgate.directory.formats.csv_users import parse_csv
from glassgate.directory.state import Directory
from glassgate.errors import LockoutRefusedError
from glassgate.workflows.directory import DirectoryService, Source
from tests.unit.directory._build import GUARD
from tests.unit.directory._fakes import DirectRunner, FakeStore, RecordingAlerts, RecordingAudit
from tests.unit.directory.okta_fixture import ADMINS, okta_directory


def _import(service: DirectoryService, text: str) -> None:
    ids = itertools.count()

    def plan(d: Directory):  # type: ignore[no-untyped-def]
        return to_changes(parse_csv(text), d, lambda: f"new{next(ids)}", 2.0)

    asyncio.run(
        service.change(
            plan, actor="cli:hris-sync", source=Source.IMPORT, action="import of hris.csv"
        )
    )


def _service(store: FakeStore, alerts: RecordingAlerts) -> DirectoryService:
    service = DirectoryService(
        store, DirectRunner(), GUARD, RecordingAudit(store), alerts, lambda: 2.0
    )
    asyncio.run(service.refresh())
    return service


def test_an_hris_file_that_drops_the_department_column_is_refused_whole() -> None:
    store, alerts = FakeStore.of(okta_directory()), RecordingAlerts()
    service = _service(store, alerts)
    rows = "\n".join(f"{name},active,Identity Administrator" for name in ADMINS)
    with pytest.raises(LockoutRefusedError) as info:
        _import(
            service, "userName,status,title\n" + rows + "\nnew.hire@example.com,active,Engineer\n"
        )
    assert "refused import of hris.csv" in str(info.value)
    assert store.commits == 0
    assert (
        service.current.user_named("new.hire@example.com") is None
    )  # nothing applied, not even the rest
    ((alert, _),) = alerts.sent
    assert alert.summary.startswith("An import tried to leave protected group 'Admins'")


def test_an_hris_file_that_keeps_enough_admins_applies() -> None:
    store, alerts = FakeStore.of(okta_directory()), RecordingAlerts()
    service = _service(store, alerts)
    _import(
        service,
        "userName,status,department,title\nlena.ortiz@example.com,suspended,IT,Identity Administrator\n",
    )
    assert service.current.active_members("Admins") == tuple(
        a for a in ADMINS if not a.startswith("lena")
    )
    assert alerts.sent == []
