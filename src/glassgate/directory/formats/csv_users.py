"""Users as CSV (an HRIS export, a spreadsheet): one row per user.

Columns: ``userName`` (required), and optionally ``id``, ``externalId``,
``status`` (active, suspended or deprovisioned; default active) and
``groups`` (the user's complete list of direct groups, separated by ``;``;
groups that do not exist are created). Every other column is an attribute
with that name; an empty cell means the user does not have it. Values stay
text: CSV has no types. Use the JSON format for lists and numbers.

Hostile files are refused with every problem listed: duplicate or invalid
column names, rows of the wrong width, NUL bytes, unknown statuses, a
userName twice. Exported cells are neutralised against formula injection.
"""

from __future__ import annotations

import csv
import io

from glassgate.directory.formats.batch import ImportBatch, ImportedUser
from glassgate.directory.formats.csv_safe import write_csv
from glassgate.directory.models import UserStatus, check_attribute_name
from glassgate.directory.state import Directory
from glassgate.errors import ImportInvalidError, Problem

__all__ = ["export_csv", "parse_csv"]

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
_FIXED = ("id", "userName", "externalId", "status", "groups")


def parse_csv(text: str, where: str = "import.csv") -> ImportBatch:
    if len(text) > MAX_BYTES:
        raise ImportInvalidError([Problem(where, f"larger than {MAX_BYTES} bytes")])
    if "\x00" in text:
        raise ImportInvalidError([Problem(where, "contains NUL bytes: not a text CSV file")])
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    problems: list[Problem] = []
    users: list[ImportedUser] = []
    try:
        header = next(rows, None)
        if header is None:
            raise ImportInvalidError([Problem(where, "the file is empty")])
        columns = _columns(header, where)
        seen: set[str] = set()
        for number, row in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                problems.append(Problem(where, f"more than {MAX_ROWS} rows", line=number))
                break
            user = _user(columns, row, Problem(where, "", line=number), problems)
            if user is not None and user.user_name.casefold() in seen:
                problems.append(Problem(where, f"userName {user.user_name!r} twice", line=number))
            elif user is not None:
                seen.add(user.user_name.casefold())
                users.append(user)
    except csv.Error as exc:
        problems.append(Problem(where, f"not readable as CSV: {exc}"))
    if problems:
        raise ImportInvalidError(problems)
    return ImportBatch(users=tuple(users))


def _columns(header: list[str], where: str) -> list[str]:
    names = [name.strip() for name in header]
    problems: list[Problem] = []
    if len(names) > MAX_COLUMNS:
        problems.append(Problem(where, f"more than {MAX_COLUMNS} columns", line=1))
    if len(set(names)) != len(names):
        problems.append(Problem(where, "a column name appears twice", line=1))
    if "userName" not in names:
        problems.append(Problem(where, "there is no userName column", line=1))
    for name in names:
        if name not in _FIXED:
            try:
                check_attribute_name(name)
            except ValueError as exc:
                problems.append(Problem(where, f"column {name[:64]!r}: {exc}", line=1))
    if problems:
        raise ImportInvalidError(problems)
    return names


def _user(
    columns: list[str], row: list[str], at: Problem, problems: list[Problem]
) -> ImportedUser | None:
    if len(row) != len(columns):
        message = f"{len(row)} cell(s) where the header has {len(columns)}"
        problems.append(Problem(at.location, message, line=at.line))
        return None
    cells = dict(zip(columns, row, strict=True))
    status = cells.get("status", "").strip().lower() or "active"
    if status not in UserStatus.__members__.values():
        message = f"status {status[:40]!r} is not active, suspended or deprovisioned"
        problems.append(Problem(at.location, message, line=at.line))
        return None
    groups = cells.get("groups")
    return ImportedUser(
        user_name=cells["userName"].strip(),
        status=UserStatus(status),
        attributes={k: v for k, v in cells.items() if k not in _FIXED and v != ""},
        id=cells.get("id", "").strip() or None,
        external_id=cells.get("externalId", "").strip() or None,
        groups=None if groups is None else tuple(g.strip() for g in groups.split(";") if g.strip()),
    )


def export_csv(directory: Directory) -> str:
    """Every user, one row each; list attributes are joined with ``;``."""
    users = sorted(directory.users.values(), key=lambda u: u.key)
    attributes = sorted({name for user in users for name in user.attributes})
    rows = (
        [
            user.id,
            user.user_name,
            user.external_id or "",
            user.status.value,
            ";".join(sorted(directory.direct_groups(user.id))),
            *(_cell(user.attributes.get(name)) for name in attributes),
        ]
        for user in users
    )
    return write_csv([*_FIXED, *attributes], rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
