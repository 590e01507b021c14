"""Alerts: what break-glass, lockout-guard and grant events tell a human, as values.

The shapes are a shared contract (``briefs/ALERTS-CONTRACT``): workflows,
the directory's lockout guard and just-in-time grants build an ``Alert`` and
hand it to ``ports.Alerts.send``; the sinks in ``adapters/alerts`` deliver it.
Pure value types, no I/O: ``at`` is passed in, never read from a clock here.

An alert is read at 2 a.m. by someone who must act: ``summary`` is one line
a human understands, ``runbook`` says where the procedure is, and neither
``summary`` nor ``details`` may ever hold a secret (screened at construction,
like audit records).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from glassgate.audit.screening import check_json, check_text, plain
from glassgate.types import JSONValue

__all__ = ["Alert", "Severity", "alert_json"]

MAX_SUMMARY_CHARS = 300


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_EMPTY: Mapping[str, JSONValue] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing a human must know about now. ``kind`` is a dotted event name."""

    kind: str  # "breakglass.activation.requested", "directory.lockout.refused", ...
    severity: Severity
    summary: str
    at: float
    details: Mapping[str, JSONValue] = field(default_factory=lambda: _EMPTY)
    runbook: str | None = None

    def __post_init__(self) -> None:
        if not self.kind or len(self.kind) > 128 or " " in self.kind:
            raise ValueError(f"alert kind {self.kind!r} must be a dotted name")
        if not self.summary or len(self.summary) > MAX_SUMMARY_CHARS or "\n" in self.summary:
            raise ValueError(f"an alert summary is one line of at most {MAX_SUMMARY_CHARS} chars")
        if not math.isfinite(self.at) or self.at < 0:
            raise ValueError("alert time 'at' must be epoch seconds")
        check_text(self.summary, "summary")
        if self.runbook is not None:
            check_text(self.runbook, "runbook")
        check_json(self.details, "details")
        object.__setattr__(self, "details", MappingProxyType(plain(self.details)))


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as plain JSON values: the one shape every sink sends."""
    return {
        "kind": alert.kind,
        "severity": alert.severity.value,
        "summary": alert.summary,
        "at": alert.at,
        "details": json.loads(json.dumps(dict(alert.details))),
        "runbook": alert.runbook,
    }
