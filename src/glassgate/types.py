"""Shared aliases and small value types used by every layer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

__all__ = ["Clock", "JSONValue", "Secret"]

JSONValue: TypeAlias = (
    str | int | float | bool | Mapping[str, "JSONValue"] | Sequence["JSONValue"] | None
)


# Where time comes from: a callable returning Unix seconds. ``adapters.clock.now`` is
# the wall clock (the only place that reads it); tests pass a ``FrozenClock``.
Clock: TypeAlias = Callable[[], float]


class Secret:
    """A secret string whose ``repr`` and ``str`` never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))
