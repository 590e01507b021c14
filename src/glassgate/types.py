"""Shared aliases and small value types used by every layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, TypeAlias

__all__ = [
    "ASGIApp",
    "Clock",
    "Headers",
    "JSONValue",
    "Message",
    "Receive",
    "Scope",
    "Secret",
    "Send",
]

JSONValue: TypeAlias = (
    str | int | float | bool | Mapping[str, "JSONValue"] | Sequence["JSONValue"] | None
)


# ASGI (https://asgi.readthedocs.io/en/latest/specs/main.html), defined once for every door,
# wrapper and listener, in the shape Starlette uses too (so its apps fit). Headers are
# the raw (name, value) pairs, names lower-case.
Message: TypeAlias = MutableMapping[str, Any]
Scope: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers: TypeAlias = list[tuple[bytes, bytes]]

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
