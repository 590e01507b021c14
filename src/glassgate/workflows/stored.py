"""WorkflowRecord: one workflow record as a ``WorkflowStore`` keeps it (a plain value)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["WorkflowRecord"]


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """One record as stored: its kind and key, a version for optimistic updates, the document.

    ``a`` and ``b`` are the two indexed lookup values (e.g. account and state);
    ``expires_at`` lets ``purge`` drop short-lived records (challenges).
    """

    kind: str
    key: str
    version: int
    document: Mapping[str, Any]
    a: str | None = None
    b: str | None = None
    expires_at: float | None = None
