"""adapters.config_watch: a file is reloaded only once it stopped changing (issue 11 H)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from glassgate.adapters.config_watch import StableFile, fingerprint, when_stable


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def test_fingerprint_sees_inode_size_mtime_and_content(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "a: 1\n")
    first = fingerprint(str(path))
    assert first is not None
    stat = path.stat()
    _write(path, "a: 2\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    assert fingerprint(str(path)) != first  # the content still tells them apart
    assert fingerprint(str(tmp_path / "missing.yaml")) is None


def test_a_change_is_acted_on_only_when_two_polls_agree(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "routes: [a, b]\n")
    watch = StableFile(fingerprint(str(path)))
    assert not watch.observe(fingerprint(str(path)))  # unchanged
    _write(path, "routes: [a")  # the first half of an in-place rewrite
    assert not watch.observe(fingerprint(str(path)))
    _write(path, "routes: [a, c]\n")  # the rest lands before the next poll
    assert not watch.observe(fingerprint(str(path)))
    assert watch.observe(fingerprint(str(path)))  # stable: reload now
    assert not watch.observe(fingerprint(str(path)))  # and only once


def test_a_half_written_file_is_never_acted_on_while_writes_continue(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "v0")
    watch = StableFile(fingerprint(str(path)))
    actions = []
    for step in range(10):  # a slow writer: a new version before every poll
        _write(path, f"v0 + part {step}")
        actions.append(watch.observe(fingerprint(str(path))))
    assert not any(actions)


def test_changing_back_to_the_loaded_file_needs_no_reload(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "same")
    watch = StableFile(fingerprint(str(path)))
    os.rename(path, tmp_path / "old.yaml")
    assert not watch.observe(fingerprint(str(path)))  # missing for one poll
    os.rename(tmp_path / "old.yaml", path)
    assert not watch.observe(fingerprint(str(path)))  # back as it was


def test_a_file_that_stays_missing_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "x")
    watch = StableFile(fingerprint(str(path)))
    path.unlink()
    assert [watch.observe(fingerprint(str(path))) for _ in range(4)] == [False, True, False, False]


def test_when_stable_waits_out_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    _write(path, "part 0")
    writes = iter(["part 1", "part 2", "done"])

    async def sleep(_: float) -> None:  # each "interval" the writer adds a step, then stops
        step = next(writes, None)
        if step is not None:
            _write(path, step)

    found = asyncio.run(when_stable(str(path), 0.01, sleep))
    assert found == fingerprint(str(path))
    assert path.read_text() == "done"
