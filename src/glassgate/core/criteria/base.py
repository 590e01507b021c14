"""The contract every criterion follows: frozen config in, ``Check`` out.

A criterion is compiled once at config load into a ``Check``: a plain function
from ``Context`` to ``Verdict``. Evaluation never fetches data and never reads
the clock; everything it may look at is in the ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from glassgate.core.decision import Challenge
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest

__all__ = ["Check", "CompiledCriterion", "Context", "Effect", "Verdict"]

_NO_RISK: Mapping[str, Any] = MappingProxyType({})


class Effect(Enum):
    PASS = "pass"
    DENY = "deny"
    STEP_UP = "step-up"


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a criterion may look at for one request."""

    request: AccessRequest
    principal: Principal
    now: float
    risk: Mapping[str, Any] = field(default_factory=lambda: _NO_RISK)


@dataclass(frozen=True, slots=True)
class Verdict:
    effect: Effect
    reason: Reason
    detail: str = ""
    challenge: Challenge | None = None

    @classmethod
    def ok(cls, reason: Reason, detail: str = "") -> Verdict:
        return cls(Effect.PASS, reason, detail)

    @classmethod
    def deny(cls, reason: Reason, detail: str = "") -> Verdict:
        return cls(Effect.DENY, reason, detail)

    @classmethod
    def step_up(cls, reason: Reason, challenge: Challenge, detail: str = "") -> Verdict:
        return cls(Effect.STEP_UP, reason, detail, challenge)


Check = Callable[[Context], Verdict]


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    """A named check, as it runs on a route."""

    name: str
    check: Check
