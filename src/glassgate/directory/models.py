"""Directory users and groups (SPEC C6): frozen values, checked when built.

A user's ``attributes`` are one flat profile shared by every way in (SCIM,
JSON, CSV, Okta exports) and by the group rules: the SCIM core and enterprise
attributes under their SCIM names (``givenName``, ``familyName``, ``title``,
``department``, ``employeeNumber``, ``manager``, ...) plus any custom ones.
Rules see them as ``user.<name>``; an attribute that is absent is simply not
there (``has(user.department)`` is false), never an empty string.

Break-glass accounts and custodians are not directory users. They are a
separate kind of identity (``workflows``) that no rule, import or SCIM client
can reach: nothing here can represent them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias, TypeVar

from glassgate.audit.screening import check_json
from glassgate.types import JSONValue

__all__ = [
    "MAX_ATTRIBUTES",
    "AttrValue",
    "Group",
    "User",
    "UserStatus",
    "attributes_json",
    "check_attribute_name",
    "check_identifier",
    "check_name",
    "stamp",
]

AttrValue: TypeAlias = str | int | float | bool | tuple[str, ...]

MAX_ATTRIBUTES = 128
MAX_TEXT = 1024
MAX_LIST = 100
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Ids and names: printable, no control characters, bounded; '/' would break SCIM paths.
_BAD_ID_CHARS = re.compile(r"[\x00-\x1f\x7f/]")
_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_EMPTY: Mapping[str, AttrValue] = MappingProxyType({})
_EMPTY_EXTRA: Mapping[str, JSONValue] = MappingProxyType({})
# Reserved: rules see these from the user's own fields, never from its attributes.
RESERVED_ATTRIBUTES = frozenset({"id", "userName", "externalId", "active", "status"})


class UserStatus(StrEnum):
    """Only ``active`` users count towards a protected group's minimum."""

    ACTIVE = "active"
    SUSPENDED = "suspended"  # exists, cannot sign in (Okta SUSPENDED, LOCKED_OUT, STAGED ...)
    DEPROVISIONED = "deprovisioned"  # gone upstream; kept so its history stays readable


def check_identifier(value: object, what: str, limit: int = 128) -> str:
    """An id: a non-empty printable string without '/' (it becomes a SCIM path segment)."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{what} must be a non-empty string of at most {limit} characters")
    if _BAD_ID_CHARS.search(value) or value != value.strip():
        raise ValueError(f"{what} {value!r} contains '/', control characters or edge spaces")
    return value


def check_name(value: object, what: str, limit: int = 256) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{what} must be a non-empty string of at most {limit} characters")
    if _BAD_NAME_CHARS.search(value) or value != value.strip():
        raise ValueError(f"{what} {value!r} contains control characters or edge spaces")
    return value


def check_attribute_name(name: object) -> str:
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.fullmatch(name):
        raise ValueError(
            f"attribute name {name!r} is not an identifier (letters, digits, '_', at most 64)"
        )
    if name in RESERVED_ATTRIBUTES:
        raise ValueError(f"attribute name {name!r} is reserved: it is one of the user's fields")
    try:
        check_json({name: None}, "attributes")  # the audit log's own secret-name screen
    except ValueError:
        raise ValueError(
            f"attribute name {name!r} names a secret; the directory never stores secrets"
        ) from None
    return name


def _check_value(name: str, value: object) -> AttrValue:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"attribute {name!r} is not a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT or "\x00" in value:
            raise ValueError(f"attribute {name!r} is longer than {MAX_TEXT} or contains NUL")
        return value
    if isinstance(value, tuple) and len(value) <= MAX_LIST:
        for item in value:
            if not isinstance(item, str) or len(item) > MAX_TEXT or "\x00" in item:
                raise ValueError(f"attribute {name!r} must be a list of short strings")
        return value
    raise ValueError(
        f"attribute {name!r} must be a string, number, boolean or a list of at most "
        f"{MAX_LIST} strings, not {type(value).__name__}"
    )


def attributes_json(attributes: Mapping[str, AttrValue]) -> dict[str, JSONValue]:
    """The attributes as JSON values: lists where the profile keeps tuples."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def _check_attributes(attributes: Mapping[str, AttrValue]) -> Mapping[str, AttrValue]:
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"a user has at most {MAX_ATTRIBUTES} attributes")
    checked = {check_attribute_name(k): _check_value(k, v) for k, v in attributes.items()}
    return MappingProxyType(checked)


@dataclass(frozen=True, slots=True)
class User:
    """A directory user. ``id`` never changes; ``user_name`` is unique, ignoring case.

    ``extra`` keeps the SCIM attributes that have no place in the flat
    profile (phone numbers, addresses, further e-mails) so a SCIM client
    reads back what it wrote; rules never see it. ``version`` grows by one
    with every change (SCIM ETags); ``created``/``modified`` are epoch seconds.
    """

    id: str
    user_name: str
    status: UserStatus = UserStatus.ACTIVE
    attributes: Mapping[str, AttrValue] = field(default_factory=lambda: _EMPTY)
    external_id: str | None = None
    extra: Mapping[str, JSONValue] = field(default_factory=lambda: _EMPTY_EXTRA, compare=False)
    version: int = 1
    created: float = 0.0
    modified: float = 0.0

    def __post_init__(self) -> None:
        check_identifier(self.id, "user id")
        check_name(self.user_name, "userName")
        if not isinstance(self.status, UserStatus):
            raise ValueError(f"user status must be one of {[s.value for s in UserStatus]}")
        if self.external_id is not None:
            check_name(self.external_id, "externalId")
        object.__setattr__(self, "attributes", _check_attributes(self.attributes))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @property
    def active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def key(self) -> str:
        """userName as compared for uniqueness (RFC 7643 §4.1.1: caseExact false)."""
        return self.user_name.casefold()


@dataclass(frozen=True, slots=True)
class Group:
    """A group. ``name`` (SCIM displayName) is unique, and is what rules, tokens and
    protected-group settings refer to; ``members`` are the ids of its *direct*
    members: rule-derived members are computed, never stored here. ``extra``
    keeps what SCIM clients wrote that the directory does not use (member
    display names), so they read it back."""

    id: str
    name: str
    members: frozenset[str] = frozenset()
    external_id: str | None = None
    extra: Mapping[str, JSONValue] = field(default_factory=lambda: _EMPTY_EXTRA, compare=False)
    version: int = 1
    created: float = 0.0
    modified: float = 0.0

    def __post_init__(self) -> None:
        check_identifier(self.id, "group id")
        check_name(self.name, "group name")
        if self.external_id is not None:
            check_name(self.external_id, "externalId")
        members = frozenset(self.members)
        for member in members:
            check_identifier(member, "member id")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))


_Stamped = TypeVar("_Stamped", User, Group)


def stamp(item: _Stamped, previous: _Stamped | None, now: float) -> _Stamped:
    """``item`` as the next version of ``previous`` (or as a new one), changed at ``now``."""
    if previous is None:
        return replace(item, version=1, created=now, modified=now)
    return replace(item, version=previous.version + 1, created=previous.created, modified=now)
