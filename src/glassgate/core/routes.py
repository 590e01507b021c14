"""Route patterns and first-match-wins route tables.

Patterns match whole segments, case-sensitively:

- ``/public``      exactly ``/public`` (and ``/public/``)
- ``/public/*``    ``/public`` and anything below it, never ``/publicity``
- ``/api/*/items`` one segment in the middle (``/api/7/items``)
- ``/*``           every path

Hosts match case-insensitively, exactly or as ``*.example.com`` (one or more
labels), against the canonical host (``core.hosts``: no port, no trailing dot).

Methods are upper-case; no methods means every method. A route listing
``GET`` also covers ``HEAD`` (RFC 9110 9.3.2: HEAD is GET without the body,
and frameworks answer it with the GET handler), so a HEAD can never slip past
a GET route to a later, weaker one. ``OPTIONS`` is a method like any other: a
route covers it only when it lists it (or lists no methods), and it needs that
route's credential like any other request; the gateway never answers a CORS
preflight itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

__all__ = ["Match", "PathPattern", "RouteTable", "RouteTarget"]

T = TypeVar("T")


class Match(Enum):
    NONE = 0
    PARTIAL = 1  # path and host match, the method does not
    FULL = 2


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A compiled path pattern: literal segments, ``*`` for one segment, trailing ``*``."""

    source: str
    segments: tuple[str, ...]
    prefix: bool

    @classmethod
    def parse(cls, source: str) -> PathPattern:
        if not source.startswith("/"):
            raise ValueError("a path pattern must start with '/'")
        parts = source.split("/")[1:]
        if parts and parts[-1] == "":
            parts = parts[:-1]
        prefix = bool(parts) and parts[-1] in ("*", "**")
        if prefix:
            parts = parts[:-1]
        for part in parts:
            if part == "" or part in (".", ".."):
                raise ValueError("a path pattern cannot hold empty or dot segments")
            if "*" in part and part != "*":
                raise ValueError("'*' must stand for a whole segment, as in /api/*/items")
            if ";" in part:
                raise ValueError("a path pattern cannot hold ';': such request paths are refused")
        return cls(source=source, segments=tuple(parts), prefix=prefix)

    def matches(self, segments: Sequence[str]) -> bool:
        wanted = self.segments
        if len(segments) < len(wanted) or (not self.prefix and len(segments) != len(wanted)):
            return False
        for pattern, actual in zip(wanted, segments, strict=False):
            if pattern not in ("*", actual):
                return False
        return True


def path_segments(path: str) -> tuple[str, ...]:
    """Segments of a canonical path; a trailing slash adds no segment."""
    return tuple(part for part in path.split("/") if part)


def _host_matches(patterns: tuple[str, ...], host: str) -> bool:
    """Whether ``host`` is one of ``patterns`` (``*.example.com``: strictly below it)."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif pattern == host:
            return True
    return False


@dataclass(frozen=True, slots=True)
class RouteTarget(Generic[T]):
    """One entry of a route table: its match criteria and what it leads to."""

    pattern: PathPattern
    methods: frozenset[str]
    hosts: tuple[str, ...]
    value: T

    def __post_init__(self) -> None:
        if "GET" in self.methods and "HEAD" not in self.methods:
            object.__setattr__(self, "methods", self.methods | {"HEAD"})


def _first(target: RouteTarget[T]) -> str | None:
    return target.pattern.segments[0] if target.pattern.segments else None


def _literal_first(target: RouteTarget[T]) -> bool:
    first = _first(target)
    return first is not None and first != "*"


class RouteTable(Generic[T]):
    """An ordered list of targets; the first FULL match wins.

    Targets are indexed once by their first path segment, so a lookup only
    walks the routes that could match (those starting with that literal
    segment, or with a wildcard or nothing), still in their configured order.
    """

    __slots__ = ("_by_first", "_targets", "_wildcard_first")

    def __init__(self, targets: Sequence[RouteTarget[T]]) -> None:
        self._targets = tuple(targets)
        firsts = {_first(t) for t in self._targets if _literal_first(t)}
        self._by_first = {
            first: tuple(t for t in self._targets if not _literal_first(t) or _first(t) == first)
            for first in firsts
        }
        self._wildcard_first = tuple(t for t in self._targets if not _literal_first(t))

    def __len__(self) -> int:
        return len(self._targets)

    def lookup(self, method: str, host: str, path: str) -> tuple[Match, T | None]:
        """The first fully matching value, else whether some route matched but the method."""
        segments = path_segments(path)
        host = host.lower()
        best = Match.NONE
        candidates = (
            self._by_first.get(segments[0], self._wildcard_first)
            if segments
            else self._wildcard_first
        )
        for target in candidates:  # per request: kept flat, no call per target
            if not target.pattern.matches(segments):
                continue
            if target.hosts and not _host_matches(target.hosts, host):
                continue
            if target.methods and method not in target.methods:
                best = Match.PARTIAL
                continue
            return Match.FULL, target.value
        return best, None
