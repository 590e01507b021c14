"""open_store: the one way to a database-backed store of any port.

Each port's package (``audit/``, ``api_keys/``, and the stores to come) calls
this with its SQLite and PostgreSQL ``open`` constructors: the schema is
migrated first when asked (the embedded default does on first start), then the
backend the target names is opened with the target's timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from glassgate.adapters.storage.revision import upgrade_if_due
from glassgate.adapters.storage.target import StorageTarget

__all__ = ["open_store"]

_S = TypeVar("_S")


def open_store(
    target: StorageTarget,
    *,
    migrate: bool,
    sqlite: Callable[..., _S],
    postgres: Callable[..., _S],
) -> _S:
    """``sqlite(path, busy_timeout=)`` or ``postgres(dsn, connect_timeout=, name=)``.

    Callers annotate one of the two as ``Callable[..., <Port>]`` so that the
    result is typed as the port, not as either concrete store.
    """
    if migrate:
        upgrade_if_due(target)
    if target.backend == "postgres":
        return postgres(target.location, connect_timeout=target.timeout, name=target.describe())
    return sqlite(target.location, busy_timeout=target.timeout)
