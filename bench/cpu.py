"""Server-side CPU time from /proc: a process, all its threads and descendants.

``utime + stime`` of a process already covers all of its threads; children
that exited and were reaped are in the parent's ``cutime + cstime``. Live
descendants are found through ``/proc/*/stat`` parent links. Ticks are
``SC_CLK_TCK`` (usually 100 Hz): over a few seconds of load at thousands of
requests per second that resolves well below a microsecond per request.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "children_cpu_seconds",
    "cpu_seconds",
    "descendants",
    "machine_busy_seconds",
    "rss_bytes",
]

_TICK = float(os.sysconf("SC_CLK_TCK"))
_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return text[text.rindex(")") + 2 :].split()


def descendants(root: int) -> set[int]:
    """``root`` and every live process below it."""
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def cpu_seconds(roots: Iterable[int]) -> float:
    """User + system CPU seconds of the trees under ``roots`` (reaped children included)."""
    total = 0
    for root in roots:
        for pid in descendants(root):
            fields = _stat_fields(pid)
            if fields is None:
                continue
            # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / _TICK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores; idle and iowait excluded)."""
    try:
        fields = (_PROC / "stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def children_cpu_seconds() -> float:
    """CPU seconds of this process's reaped children (wrk runs as one)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(roots: Iterable[int]) -> int:
    """Resident set size of the trees under ``roots`` (VmRSS, summed)."""
    total = 0
    for root in roots:
        for pid in descendants(root):
            try:
                status = (_PROC / str(pid) / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total
