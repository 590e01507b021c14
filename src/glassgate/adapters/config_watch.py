"""When a changed config file may be reloaded: only once it has stopped changing.

An editor or a script that rewrites the file in place writes it in several
steps; read between two of them, a half-written file can still be valid YAML
that validates, with a route's ``allow:`` missing, which would open that route
until the next step lands. So a change is acted on only once the file is the
same in two polls in a row, one interval apart: same inode, size, mtime and
content (SHA-256; a rewrite within one mtime tick is still seen). Whether the
stable file is then *used* is the reload's business: it validates in full and
keeps the old config on any problem.

The safe way to change a config remains the atomic rename (write a new file
beside it, then ``mv`` it over the old one): readers only ever see the old or
the new file, never a mix. A missing file is a state like any other: once it
stays missing for two polls the reload runs and reports it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from glassgate.config.load import MAX_CONFIG_BYTES

__all__ = ["Fingerprint", "StableFile", "fingerprint", "when_stable"]


class Fingerprint(NamedTuple):
    inode: int
    size: int
    mtime_ns: int
    digest: bytes


def fingerprint(path: str) -> Fingerprint | None:
    """What the file is now; ``None`` when it is missing or unreadable."""
    try:
        with open(path, "rb") as file:
            st = os.fstat(file.fileno())
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return None
    return Fingerprint(st.st_ino, st.st_size, st.st_mtime_ns, hashlib.sha256(data).digest())


class StableFile:
    """Decides, poll by poll, when the watched file may be reloaded."""

    def __init__(self, loaded: Fingerprint | None) -> None:
        self.loaded = loaded  # what the serving config was read from
        self._seen: tuple[Fingerprint | None] | None = None  # the previous poll's view, if any

    def observe(self, current: Fingerprint | None) -> bool:
        """True when ``current`` differs from what was loaded and equals the previous poll."""
        if current == self.loaded:
            self._seen = None
            return False
        if self._seen != (current,):
            self._seen = (current,)
            return False
        self._seen = None
        self.loaded = current  # whatever the reload makes of it, this version was acted on
        return True


async def when_stable(
    path: str, interval: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> Fingerprint | None:
    """Wait until two reads ``interval`` apart agree (a SIGHUP during a rewrite waits it out)."""
    previous = fingerprint(path)
    while True:
        await sleep(interval)
        current = fingerprint(path)
        if current == previous:
            return current
        previous = current
