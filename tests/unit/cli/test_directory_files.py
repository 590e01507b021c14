"""cli._directory.read_batch: import files from disk, format by path, hostile files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glassgate.cli._directory import read_batch
from glassgate.errors import ImportInvalidError
from tests.unit.directory.okta_fixture import OKTA


def test_a_folder_is_an_okta_export() -> None:
    batch = read_batch(OKTA)
    assert len(batch.users) == 319
    assert batch.rules is not None


def test_csv_json_and_an_okta_bundle_are_told_apart(tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("userName,department\nana@example.com,IT\n")
    assert read_batch(csv_file).users[0].attributes == {"department": "IT"}
    native = tmp_path / "export.json"
    native.write_text(
        json.dumps({"format": "glassgate-directory/1", "users": [{"userName": "b@x"}]})
    )
    assert read_batch(native).users[0].user_name == "b@x"
    bundle = tmp_path / "okta.json"
    users = json.loads((OKTA / "users.json").read_text())[:3]
    bundle.write_text(json.dumps({"users": users, "groups": []}))
    assert len(read_batch(bundle).users) == 3


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("missing.csv", None, None, "does not exist"),
        ("data.txt", "x", None, "cannot tell the format"),
        ("odd.json", '{"users": [1]}', None, "cannot tell the format"),
        ("bad.json", "{", None, "not valid JSON"),
        ("latin1.csv", b"userName\n\xe9\n", None, "not UTF-8"),
        ("forced.json", '{"users": []}', "csv", "no userName column"),
    ],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, name: str, content: str | bytes | None, fmt: str | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ImportInvalidError) as info:
        read_batch(path, fmt)
    assert message in " ".join(p.render() for p in info.value.problems)
