"""The Okta-format export in tests/vectors/directory/okta, loaded into a directory."""

from __future__ import annotations

import itertools
from pathlib import Path

from glassgate.directory.changes import apply
from glassgate.directory.formats.batch import ImportBatch, to_changes
from glassgate.directory.formats.okta import okta_from_files, parse_okta
from glassgate.directory.state import Directory

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "directory"
OKTA = VECTORS / "okta"
RULES_CHANGED = VECTORS / "rules-changed.yaml"
ADMINS = (
    "jun.tanaka@example.com",
    "lena.ortiz@example.com",
    "omar.haddad@example.com",
    "priya.patel@example.com",
)  # the active ones; sam.walsh@example.com is a suspended admin


def export_files() -> dict[str, bytes]:
    return {str(p.relative_to(OKTA)): p.read_bytes() for p in OKTA.rglob("*.json")}


def okta_batch() -> ImportBatch:
    return parse_okta(okta_from_files(export_files()))


def okta_directory() -> Directory:
    counter = itertools.count()
    return apply(
        Directory.empty(),
        to_changes(okta_batch(), Directory.empty(), lambda: f"id{next(counter)}", 1.0),
    )
