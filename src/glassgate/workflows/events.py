"""Workflow events: what a transition reports, for the audit log and for alerts.

Pure transitions return them; only ``service`` turns them into audit records
(type ``breakglass.<name>``) and alerts. ``details`` are plain JSON values
and never hold a secret (the audit record screens them again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from glassgate.types import JSONValue

__all__ = ["Event"]

_EMPTY: Mapping[str, JSONValue] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Event:
    """``name`` is dotted kebab-case below the workflow's prefix, e.g. ``activation.approved``."""

    name: str
    at: float
    actor: str
    subject: str
    details: Mapping[str, JSONValue] = field(default_factory=lambda: _EMPTY)
