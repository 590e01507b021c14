"""The contract suites' ``opener`` fixture body: one store port over every backend.

``open_stores`` yields a function that opens a store of the port on one fresh
database (memory: one shared instance; SQLite: ``tmp_path / file``;
PostgreSQL: a freshly migrated database), so a test can open two stores on
the same data (two processes); every store opened is closed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from glassgate.adapters.storage.target import StorageTarget

__all__ = ["BACKENDS", "open_stores"]

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
