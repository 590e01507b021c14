"""Files only their owner may read: the database, its WAL/SHM, the checkpoint key and file, exports.

They hold API key digests, audit records and the key that signs the log's
checkpoints, so glassgate creates every one of them with mode 0600 (the umask
can only narrow that). A file that already exists keeps the mode its owner
gave it, but ``warn_if_exposed`` says so at start; an export that is being
rewritten is tightened to 0600, since its old mode was chosen for old content.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

__all__ = ["OWNER_ONLY", "create_owner_only", "open_owner_only", "warn_if_exposed"]

OWNER_ONLY = 0o600
_OTHERS = 0o077

log = logging.getLogger("glassgate")


def create_owner_only(path: str | os.PathLike[str]) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (then nothing changes)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return
    os.close(fd)


def open_owner_only(path: str | os.PathLike[str], *, exclusive: bool = False) -> BinaryIO:
    """Open ``path`` for writing from the start, created 0600 (a regular file is tightened).

    ``exclusive`` refuses a path that exists (``FileExistsError``): an archive
    is never overwritten.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, OWNER_ONLY)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) and mode & _OTHERS:
            os.fchmod(fd, OWNER_ONLY)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def warn_if_exposed(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Log a warning for each existing file that users other than its owner can access."""
    exposed: list[Path] = []
    for path in map(Path, paths):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & _OTHERS:
            exposed.append(path)
            log.warning(
                "%s is readable by other users (mode %04o); it holds audit or key material: "
                "run `chmod 600 %s`",
                path,
                mode,
                path,
            )
    return exposed
