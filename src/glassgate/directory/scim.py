"""SCIM 2.0 resources (RFC 7643) <-> directory users and groups: mapping only.

The HTTP side (RFC 7644: endpoints, filters, PATCH, ETags) lives in ``web``;
this module turns a user or group into its SCIM JSON document and back.

Users: ``userName``, ``externalId``, ``active``, ``name.*``, ``displayName``,
``title`` and the other core strings, and the enterprise extension's
``employeeNumber``, ``costCenter``, ``organization``, ``division``,
``department`` and ``manager.value`` map onto the flat profile that rules
read (``name.givenName`` -> ``givenName``, the primary e-mail -> ``email``).
Multi-valued attributes (emails, phone numbers, addresses, ...) are kept
whole in ``User.extra`` so a client reads back what it wrote. ``password``
is never kept. Attributes that came from imports and have no SCIM name
survive SCIM writes. ``active: false`` suspends a user; a user already
deprovisioned stays deprovisioned. The read-only ``groups`` attribute lists
effective groups: ``direct`` ones and ``indirect`` ones (given by a rule).

Groups: ``displayName``, ``externalId`` and ``members`` (users only, direct
members only: rule-derived members are computed, never written by a client).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from glassgate.directory.models import AttrValue, Group, User, UserStatus
from glassgate.types import JSONValue

__all__ = [
    "ENTERPRISE_USER",
    "GROUP_SCHEMA",
    "SCIM_ATTRIBUTES",
    "USER_SCHEMA",
    "group_document",
    "group_from_document",
    "user_document",
    "user_from_document",
    "version_tag",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"

_NAME = {
    "givenName": "givenName",
    "familyName": "familyName",
    "middleName": "middleName",
    "honorificPrefix": "honorificPrefix",
    "honorificSuffix": "honorificSuffix",
    "formatted": "formattedName",
}
_CORE = (
    "displayName", "nickName", "profileUrl", "title", "userType",
    "preferredLanguage", "locale", "timezone",
)  # fmt: skip
_ENTERPRISE = ("employeeNumber", "costCenter", "organization", "division", "department")
_MULTI = (
    "emails", "phoneNumbers", "ims", "photos", "addresses",
    "entitlements", "roles", "x509Certificates",
)  # fmt: skip
# Profile names that SCIM owns: a SCIM write sets them all (absent = removed).
SCIM_ATTRIBUTES = frozenset({*_NAME.values(), *_CORE, *_ENTERPRISE, "email", "manager"})
# ``extra`` keys of our own (SCIM attribute names never contain ':')
_MANAGER = "glassgate:manager"  # the enterprise manager object as written
_NO_ACTIVE = "glassgate:activeOmitted"  # the client removed ``active``: status unchanged
_MEMBER_DISPLAY = "glassgate:memberDisplay"  # group member id -> display as written


def version_tag(version: int) -> str:
    """The weak ETag of a version (RFC 7644 §3.14)."""
    return f'W/"{version}"'


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _meta(kind: str, item: User | Group) -> dict[str, JSONValue]:
    return {
        "resourceType": kind,
        "created": _timestamp(item.created),
        "lastModified": _timestamp(item.modified),
        "version": version_tag(item.version),
    }


def user_document(user: User, groups: Iterable[tuple[str, str, bool]] = ()) -> dict[str, JSONValue]:
    """The SCIM User; ``groups`` are (group id, name, direct?) of its effective groups."""
    attrs = user.attributes
    doc: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE_USER],
        "id": user.id,
        "userName": user.user_name,
        "meta": _meta("User", user),
    }
    if not user.extra.get(_NO_ACTIVE):
        doc["active"] = user.active
    if user.external_id is not None:
        doc["externalId"] = user.external_id
    name = {scim: attrs[flat] for scim, flat in _NAME.items() if flat in attrs}
    if name:
        doc["name"] = name
    doc.update({key: attrs[key] for key in _CORE if key in attrs})
    doc.update({key: value for key, value in user.extra.items() if key in _MULTI})
    if "emails" not in doc and isinstance(attrs.get("email"), str):
        doc["emails"] = [{"value": attrs["email"], "type": "work", "primary": True}]
    enterprise: dict[str, Any] = {key: attrs[key] for key in _ENTERPRISE if key in attrs}
    if isinstance(attrs.get("manager"), str):
        written = user.extra.get(_MANAGER)
        manager = dict(written) if isinstance(written, Mapping) else {}
        manager.update({"value": attrs["manager"], "$ref": f"Users/{attrs['manager']}"})
        enterprise["manager"] = manager
    if enterprise:
        doc[ENTERPRISE_USER] = enterprise
    memberships = [
        {"value": gid, "display": name, "type": "direct" if direct else "indirect"}
        for gid, name, direct in sorted(groups, key=lambda g: (g[1].casefold(), g[0]))
    ]
    if memberships:
        doc["groups"] = memberships
    return doc


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def user_from_document(document: Mapping[str, Any], user_id: str, existing: User | None) -> User:
    """The user a SCIM document describes; ``ValueError`` for values the directory refuses.

    Versions and times are left to the caller (``models.stamp``).
    """
    attributes: dict[str, AttrValue] = {}
    if existing is not None:  # imported attributes SCIM has no name for are kept
        attributes.update(
            {k: v for k, v in existing.attributes.items() if k not in SCIM_ATTRIBUTES}
        )
    name = _object(document.get("name"))
    for scim, flat in _NAME.items():
        if (value := _text(name.get(scim))) is not None:
            attributes[flat] = value
    for key in _CORE:
        if (value := _text(document.get(key))) is not None:
            attributes[key] = value
    enterprise = _object(document.get(ENTERPRISE_USER))
    for key in _ENTERPRISE:
        if (value := _text(enterprise.get(key))) is not None:
            attributes[key] = value
    extra: dict[str, JSONValue] = {
        key: document[key] for key in _MULTI if isinstance(document.get(key), list)
    }
    manager = enterprise.get("manager")
    if isinstance(manager, dict) and (value := _text(manager.get("value"))) is not None:
        attributes["manager"] = value
        if _text(manager.get("displayName")) is not None:
            extra[_MANAGER] = {"displayName": manager["displayName"]}
    if (email := _primary_email(extra.get("emails"))) is not None:
        attributes["email"] = email
    if "active" not in document or document["active"] is None:
        extra[_NO_ACTIVE] = True
    return User(
        id=user_id,
        user_name=document.get("userName", ""),
        status=_status(document.get("active"), existing),
        attributes=attributes,
        external_id=_text(document.get("externalId")),
        extra=extra,
    )


def _primary_email(emails: Any) -> str | None:
    if not isinstance(emails, list):
        return None
    values = [e for e in emails if isinstance(e, dict) and _text(e.get("value"))]
    primary = [e for e in values if e.get("primary") is True]
    chosen = (primary or values)[:1]
    return str(chosen[0]["value"]) if chosen else None


def _status(active: Any, existing: User | None) -> UserStatus:
    if active is None:  # not stated: as it was (a new user is active)
        return existing.status if existing is not None else UserStatus.ACTIVE
    if active is True:
        return UserStatus.ACTIVE
    if active is False:
        deprovisioned = existing is not None and existing.status is UserStatus.DEPROVISIONED
        return UserStatus.DEPROVISIONED if deprovisioned else UserStatus.SUSPENDED
    raise ValueError("active must be true or false")


def group_document(group: Group, user_names: Mapping[str, str]) -> dict[str, JSONValue]:
    """The SCIM Group with its direct members; ``user_names`` maps member ids to userNames."""
    doc: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": group.id,
        "displayName": group.name,
        "meta": _meta("Group", group),
    }
    if group.external_id is not None:
        doc["externalId"] = group.external_id
    written = group.extra.get(_MEMBER_DISPLAY)
    displays = written if isinstance(written, Mapping) else {}
    if group.members:
        doc["members"] = [
            {
                "value": uid,
                "$ref": f"Users/{uid}",
                "type": "User",
                "display": displays.get(uid, user_names.get(uid)),
            }
            for uid in sorted(group.members)
        ]
    return doc


def group_from_document(document: Mapping[str, Any], group_id: str) -> Group:
    """The group a SCIM document describes; ``ValueError`` for nested groups or bad members."""
    members: set[str] = set()
    displays: dict[str, JSONValue] = {}
    for member in document.get("members") or ():
        if not isinstance(member, dict) or not _text(member.get("value")):
            raise ValueError("each member needs a value (a user id)")
        if member.get("type") not in (None, "User"):
            raise ValueError("members must be users: glassgate groups do not nest")
        members.add(member["value"])
        if (display := _text(member.get("display"))) is not None:
            displays[member["value"]] = display
    return Group(
        id=group_id,
        name=document.get("displayName", ""),
        members=frozenset(members),
        external_id=_text(document.get("externalId")),
        extra={_MEMBER_DISPLAY: displays} if displays else {},
    )
