"""PATCH bodies as Entra ID sends them, rewritten into RFC 7644 §3.5.2 form.

scim2-models reads the standard forms and Okta's (``replace`` with a value
object and no path, ``members[value eq "..."]`` removals). Entra ID also sends
two forms the RFC does not have; both are rewritten here, exactly and
nothing else:

* removing group members by listing them as the value of a ``members`` path:
  ``{"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}``
  becomes one ``remove`` per member with ``members[value eq "<id>"]``;
* setting the enterprise manager to a bare id:
  ``{"op": "Replace", "path": "urn:...:enterprise:2.0:User:manager", "value": "<id>"}``
  becomes ``"value": {"value": "<id>"}``;
* adding a typed value that the user does not have yet through a filter,
  ``{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@b"}``,
  becomes ``{"op": "add", "path": "emails", "value": [{"type": "work", "value": "a@b"}]}``
  (``add_missing_typed_values``: it needs the resource as it is).

Anything else, including malformed bodies, is passed on untouched, so that
scim2-server answers it with its own 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["add_missing_typed_values", "normalise_patch"]

_MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager"
_TYPED_PATH = re.compile(
    r"(emails|phoneNumbers|addresses|ims|photos)"
    r'\[type eq "([A-Za-z0-9_-]{1,32})"\]\.([A-Za-z]{1,32})',
    re.I,
)


def normalise_patch(body: bytes) -> bytes:
    """``body`` with Entra ID's member removals and bare manager ids in RFC form."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body
    operations = document.get("Operations") if isinstance(document, dict) else None
    if not isinstance(operations, list):
        return body
    rewritten: list[Any] = []
    changed = False
    for operation in operations:
        replacement = _rewrite(operation)
        changed = changed or replacement is not None
        rewritten.extend([operation] if replacement is None else replacement)
    if not changed:
        return body
    return json.dumps({**document, "Operations": rewritten}).encode()


def _rewrite(operation: Any) -> list[dict[str, Any]] | None:
    if not isinstance(operation, dict):
        return None
    op = operation.get("op")
    path = operation.get("path")
    value = operation.get("value")
    if not isinstance(op, str) or not isinstance(path, str):
        return None
    if op.lower() == "remove" and path.lower() == "members" and _member_ids(value):
        return [
            {"op": "remove", "path": f"members[value eq {json.dumps(member)}]"}
            for member in _member_ids(value)
        ]
    if op.lower() in ("add", "replace") and path.lower() == _MANAGER and isinstance(value, str):
        return [{**operation, "value": {"value": value}}]
    return None


def _member_ids(value: Any) -> list[str]:
    """The ids of a non-empty list of ``{"value": "<id>"}`` members, or nothing."""
    if not isinstance(value, list) or not value:
        return []
    ids = [item.get("value") for item in value if isinstance(item, dict)]
    if len(ids) != len(value) or not all(isinstance(i, str) and i for i in ids):
        return []
    return ids  # type: ignore[return-value]


def add_missing_typed_values(
    operations: list[dict[str, Any]], current: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """``add``/``replace`` through ``attr[type eq "t"].sub`` when ``current`` has no
    ``attr`` of type ``t``: an ``add`` of a new ``{"type": t, sub: value}`` instead."""
    out: list[dict[str, Any]] = []
    for operation in operations:
        path = operation.get("path")
        op = str(operation.get("op", "")).lower()
        match = _TYPED_PATH.fullmatch(path) if isinstance(path, str) else None
        if match is None or op not in ("add", "replace"):
            out.append(operation)
            continue
        attribute, kind, sub = match.groups()
        present = current.get(attribute) or current.get(_key(current, attribute)) or []
        if any(isinstance(item, Mapping) and item.get("type") == kind for item in present):
            out.append(operation)
            continue
        out.append(
            {"op": "add", "path": attribute, "value": [{"type": kind, sub: operation.get("value")}]}
        )
    return out


def _key(current: Mapping[str, Any], attribute: str) -> str:
    """The key of ``attribute`` in ``current`` whatever its case (``PhoneNumbers``)."""
    return next((key for key in current if key.lower() == attribute.lower()), attribute)
