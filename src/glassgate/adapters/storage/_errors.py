"""Driver exceptions become ``StorageUnavailableError`` here, and only here.

Messages name the backend and what was being done; they carry the driver's
first line of explanation (never a DSN, never a password), and the original
exception is chained with ``from`` for the logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from glassgate.errors import StorageUnavailableError

__all__ = ["map_storage_errors"]

_MAX_DETAIL = 200


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else type(exc).__name__
    return detail[:_MAX_DETAIL]


@contextmanager
def map_storage_errors(
    backend: str, action: str, errors: tuple[type[BaseException], ...]
) -> Iterator[None]:
    """Re-raise ``errors`` (the driver's base classes, plus ``OSError``) as a glassgate error."""
    caught: tuple[type[BaseException], ...] = (*errors, OSError)
    try:
        yield
    except caught as exc:
        raise StorageUnavailableError(
            f"{backend}: cannot {action}: {_first_line(exc)}; check that the database is "
            "reachable and writable"
        ) from exc
