"""What the storage contract suites share: the ``opener`` fixture body and ``migrate_to``.

``open_stores`` yields a function that opens a store of the port on one fresh
database (memory: one shared instance; SQLite: ``tmp_path / file``;
PostgreSQL: a freshly migrated database), so a test can open two stores on
the same data (two processes); every store opened is closed afterwards.
``migrate_to`` moves a database to one Alembic revision, up or down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from glassgate.adapters.storage.target import StorageTarget

__all__ = ["BACKENDS", "BACKEND_IDS", "empty_target", "migrate_to", "open_stores"]

BACKENDS = ["memory", "sqlite", "postgres"]
BACKEND_IDS = [f"backend={name}" for name in BACKENDS]


class _Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=_Closable)


def open_stores(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    file: str,
    memory: Callable[[], S],
    open_store: Callable[[StorageTarget], S],
) -> Iterator[Callable[[], S]]:
    """The body of a contract suite's ``opener`` fixture (parametrized over ``BACKENDS``)."""
    if request.param == "memory":
        shared = memory()
        yield lambda: shared
        return
    if request.param == "sqlite":
        target = StorageTarget("sqlite", str(tmp_path / file))
    else:
        target = StorageTarget("postgres", request.getfixturevalue("glassgate_postgres_dsn"))
    opened: list[S] = []

    def opener() -> S:
        store = open_store(target)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def empty_target(
    backend: str, tmp_path: Path, file: str, request: pytest.FixtureRequest
) -> StorageTarget:
    """A database with no schema yet: a new SQLite ``file``, or an empty PostgreSQL database."""
    if backend == "sqlite":
        return StorageTarget("sqlite", str(tmp_path / file))
    return StorageTarget("postgres", request.getfixturevalue("postgres_dsn"))


def migrate_to(target: StorageTarget, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) ``target`` to ``revision`` in one transaction."""
    from alembic import command

    from glassgate.adapters.storage.migrate import _alembic_config, _engine

    engine = _engine(target)
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(_alembic_config(conn), revision)
    engine.dispose()
