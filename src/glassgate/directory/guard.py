"""The lockout guard: no change may leave a protected group under its minimum (SPEC C6).

The guard compares the snapshot before a change with the snapshot after it.
A protected group that would end with fewer *active* members than its
minimum, and with fewer than it has now, makes the whole change refused
(``LockoutRefusedError``). "Fewer than now" lets a group that is already
short (a new installation, one admin so far) still gain members and change
in other ways; it never lets it lose one.

Every path that changes the directory goes through ``check_change``: rule
changes, SCIM writes, imports and CLI edits alike, so there is no door
around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from glassgate.directory.changes import Change, apply, describe
from glassgate.directory.rules import RuleErrors
from glassgate.directory.state import Directory
from glassgate.errors import LockoutRefusedError, Shortfall

__all__ = ["LockoutGuard", "ProtectedGroup", "check_change"]

_MAX_MINIMUM = 1000


@dataclass(frozen=True, slots=True)
class ProtectedGroup:
    """A group that must keep at least ``minimum`` active members (e.g. ``Admins >= 2``)."""

    name: str
    minimum: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a protected group needs a name")
        if not isinstance(self.minimum, int) or not 1 <= self.minimum <= _MAX_MINIMUM:
            raise ValueError(
                f"protected group {self.name!r}: minimum must be between 1 and {_MAX_MINIMUM}"
            )

    @classmethod
    def parse(cls, text: str) -> ProtectedGroup:
        """``"Admins>=2"`` (the form used on the command line)."""
        match = re.fullmatch(r"\s*(.+?)\s*>=\s*(\d{1,4})\s*", text)
        if match is None:
            raise ValueError(f"protected group {text!r} is not of the form NAME>=MINIMUM")
        return cls(match.group(1), int(match.group(2)))


class LockoutGuard:
    """Refuses changes that leave a protected group short of active members."""

    __slots__ = ("_protected",)

    def __init__(self, protected: Iterable[ProtectedGroup] = ()) -> None:
        groups = tuple(protected)
        names = [group.name for group in groups]
        if len(set(names)) != len(names):
            raise ValueError(f"a group is protected twice: {names}")
        self._protected = groups

    @property
    def protected(self) -> tuple[ProtectedGroup, ...]:
        return self._protected

    def shortfalls(self, before: Directory, after: Directory) -> tuple[Shortfall, ...]:
        """Every protected group that ``after`` leaves short, compared with ``before``."""
        found: list[Shortfall] = []
        for group in self._protected:
            now = before.active_members(group.name)
            then = after.active_members(group.name)
            if len(then) < group.minimum and len(then) < len(now):
                losing = tuple(sorted(set(now) - set(then)))
                found.append(Shortfall(group.name, group.minimum, then, losing))
        return tuple(found)

    def check(self, before: Directory, after: Directory, action: str) -> None:
        """Return if ``after`` is allowed; raise ``LockoutRefusedError`` naming ``action``."""
        found = self.shortfalls(before, after)
        if found:
            raise LockoutRefusedError(found, action)


def check_change(
    guard: LockoutGuard,
    before: Directory,
    changes: Sequence[Change],
    action: str | None = None,
    errors: RuleErrors | None = None,
) -> Directory:
    """Apply ``changes`` to ``before`` and return the result only if the guard allows it.

    This is the one way a caller turns a request into a new snapshot: the
    guard cannot be forgotten, because the new snapshot is only handed out
    after it passed.
    """
    after = apply(before, changes, errors)
    guard.check(before, after, action or describe(changes, before))
    return after
