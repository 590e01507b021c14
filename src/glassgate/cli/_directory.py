"""What the directory, rules and scim commands share: reading import files from disk,
and running one guarded change through the directory workflow.

``read_batch`` picks the format from what the path is, unless ``--format``
says: a folder is an Okta export (``users.json``, ``groups.json``,
``group-members/<id>.json``, ``rules.json``); a ``.csv`` file is users as
CSV; a ``.json`` file is glassgate's directory JSON when it has a ``format``
key, an Okta export in one object when its users have a ``profile``. Anything
else is refused with a hint, never guessed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from glassgate.directory.formats._json import MAX_IMPORT_BYTES
from glassgate.directory.formats.batch import ImportBatch
from glassgate.errors import ImportInvalidError, LockoutRefusedError, Problem

if TYPE_CHECKING:
    from glassgate.workflows.directory import ChangeOutcome, Plan, Source

__all__ = ["EXIT_REFUSED", "FORMATS", "guarded_change", "read_batch"]

EXIT_REFUSED = 1

FORMATS = ("json", "csv", "okta")
_MAX_FILES = 10_000


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ImportInvalidError([Problem(str(path), f"larger than {MAX_IMPORT_BYTES} bytes")])
        return path.read_bytes()
    except OSError as exc:
        raise ImportInvalidError([Problem(str(path), f"cannot be read: {exc.strerror}")]) from None


def _okta_files(folder: Path) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    members = sorted((folder / "group-members").glob("*.json"))
    if len(members) > _MAX_FILES:
        raise ImportInvalidError([Problem(str(folder), f"more than {_MAX_FILES} member files")])
    for path in [folder / "users.json", folder / "groups.json", folder / "rules.json", *members]:
        if path.is_file():
            files[path.relative_to(folder).as_posix()] = _read(path)
    return files


def _detect(path: Path) -> str:
    if path.is_dir():
        return "okta"
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() == ".json":
        try:
            head = json.loads(_read(path))
        except ValueError:
            return "json"  # the JSON reader reports what is wrong
        if isinstance(head, dict) and "format" in head:
            return "json"
        users = head.get("users") if isinstance(head, dict) else None
        if (
            isinstance(users, list)
            and users
            and isinstance(users[0], dict)
            and "profile" in users[0]
        ):
            return "okta"
    raise ImportInvalidError(
        [Problem(str(path), "cannot tell the format", "give --format json, csv or okta")]
    )


def read_batch(path: Path, fmt: str | None = None) -> ImportBatch:
    """The ``ImportBatch`` in ``path``; ``ImportInvalidError`` with every problem found."""
    from glassgate.directory.formats.csv_users import parse_csv
    from glassgate.directory.formats.native import parse_json
    from glassgate.directory.formats.okta import okta_from_bundle, okta_from_files, parse_okta

    if not path.exists():
        raise ImportInvalidError([Problem(str(path), "does not exist")])
    fmt = fmt or _detect(path)
    if fmt == "okta":
        export = (
            okta_from_files(_okta_files(path))
            if path.is_dir()
            else okta_from_bundle(_read(path), str(path))
        )
        return parse_okta(export)
    if path.is_dir():
        raise ImportInvalidError([Problem(str(path), f"a folder is an Okta export, not {fmt}")])
    if fmt == "csv":
        try:
            text = _read(path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportInvalidError(
                [Problem(str(path), f"not UTF-8 (byte {exc.start})")]
            ) from None
        return parse_csv(text, str(path))
    return parse_json(_read(path), str(path))


def guarded_change(
    config_path: str, plan: Plan, source: Source, action: str
) -> ChangeOutcome | None:
    """Run ``plan`` through the directory workflow the composition root builds.

    None when the lockout guard refused it: the refusal is printed (it was
    audited and alerted by the workflow) and nothing changed.
    """
    from glassgate.cli._storage import command_actor, run_admin
    from glassgate.config.load import load_config

    config = load_config(config_path).config
    actor = command_actor()
    try:
        return run_admin(
            config,
            lambda s: s.directory.change(plan, actor=actor, source=source, action=action),
        )
    except LockoutRefusedError as exc:
        print(f"glassgate: {exc}", file=sys.stderr)
        print("The refusal was audited and alerted.", file=sys.stderr)
        return None
