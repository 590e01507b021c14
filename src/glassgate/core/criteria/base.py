"""The contract every criterion follows: frozen config in, ``Check`` out.

A criterion is compiled once at config load into a ``Check``: a plain function
from ``Context`` to ``Verdict``. Evaluation never fetches data and never reads
the clock; everything it may look at is in the ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, NamedTuple

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


class Context(NamedTuple):
    """Everything a criterion may look at for one request.

    A NamedTuple rather than a frozen dataclass: it is built once per decision,
    and tuple construction is several times cheaper; it is just as immutable.
    """

    request: AccessRequest
    principal: Principal
    now: float
    risk: Mapping[str, Any] = _NO_RISK


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
