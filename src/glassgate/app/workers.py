"""``glassgate serve --workers N``: a pre-fork parent and N worker processes on one port.

One Python process uses one core. With ``--workers N`` (``auto``: the cores
this process may run on) the parent binds one data-plane socket per worker on
the same port (``SO_REUSEPORT``, ``app.server.Sockets``), then forks the
workers one after another; each builds its own gateway (event loop, database
connections, audit writer, caches) after the fork and accepts on its own
socket, and the kernel spreads new connections evenly over them. The parent
keeps every socket open, so a restarted worker takes over its predecessor's.
The first worker migrates the database and creates the audit checkpoint key
when they are due; the next is forked only once the previous one has built
its gateway, so no two workers race on either.

What the workers share, and what they do not:

- the audit log: every worker appends to the same database; the chain is
  multi-writer (one chain, verifiable as a whole);
- API keys, break-glass sessions, the directory: in the database, so a
  revocation reaches every worker within ``api_keys.cache_ttl``;
- quotas: counters in memory would let each worker allow the whole rate,
  N times the limit, so ``workers > 1`` with quota tiers needs the shared
  store (``quotas.store.redis``; ``check_workers`` refuses the rest);
- the console: served by worker 0 alone (its sign-in throttle and WebAuthn
  ceremonies keep state in memory);
- metrics, connection limits and the token cache are per worker
  (``/metrics`` answers for the worker that took the scrape).

The parent forwards SIGHUP (reload) and SIGINT/SIGTERM (graceful stop) to
every worker, restarts a worker that exits on its own (at most
``_RESTARTS_PER_MINUTE`` a minute; past that everything stops with exit 1),
and exits with the first non-zero exit code of a worker, else 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from types import FrameType

from glassgate.config.schema import Config
from glassgate.errors import ConfigError, Problem

__all__ = ["MAX_WORKERS", "check_workers", "prefork", "worker_count"]

log = logging.getLogger("glassgate")

MAX_WORKERS = 64
_RESTARTS_PER_MINUTE = 5
_FORWARDED = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)

Work = Callable[[int, Callable[[], None]], int]  # (index, ready) -> exit code


def worker_count(value: str) -> int:
    """``--workers``: a number from 1 to ``MAX_WORKERS``, or ``auto`` (the usable cores)."""
    if value == "auto":
        return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_WORKERS:
        raise ValueError(f"--workers takes 'auto' or a number from 1 to {MAX_WORKERS}")
    return int(value)


def check_workers(config: Config, workers: int) -> None:
    """Refuse what would not hold across ``workers`` processes (``ConfigError``)."""
    if workers > 1 and _quotas_in_memory(config):
        problem = Problem(
            "quotas",
            f"quota counters in memory cannot hold one limit across {workers} workers "
            "(each would allow the whole rate)",
            "configure a shared store (quotas.store.redis) or serve with --workers 1",
        )
        raise ConfigError([problem])


def _quotas_in_memory(config: Config) -> bool:
    """Whether quota tiers are counted by each process for itself (no ``quotas.store``)."""
    quotas = config.quotas
    return bool(quotas.tiers) and quotas.store.redis is None


def prefork(count: int, work: Work) -> int:
    """Fork ``count`` workers running ``work(index, ready)``; supervise them (module doc).

    ``ready`` is the worker's call once its gateway is built: only then is the
    next worker forked. A worker that exits before calling it fails the start:
    the others are stopped and its exit code returned.
    """
    parent = _Parent(work)
    with parent.signals():
        for index in range(count):
            if not parent.start(index):
                parent.stop_all(signal.SIGTERM)
                break
        return parent.supervise()


class _Parent:
    def __init__(self, work: Work) -> None:
        self._work = work
        self.children: dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.code = 0
        self._restarts: list[float] = []

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        originals = {sig: signal.signal(sig, self._forward) for sig in _FORWARDED}
        try:
            yield
        finally:
            for sig, original in originals.items():
                signal.signal(sig, original)

    def _forward(self, sig: int, frame: FrameType | None) -> None:
        # SIGINT becomes SIGTERM: a worker may get both (a terminal's Ctrl-C reaches the
        # whole group), and a second SIGINT would make uvicorn skip the graceful stop.
        self.stop_all(signal.SIGHUP if sig == signal.SIGHUP else signal.SIGTERM)

    def stop_all(self, sig: int) -> None:
        if sig != signal.SIGHUP:
            self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def start(self, index: int) -> bool:
        """Fork worker ``index`` and wait until it is built (False: it exited first)."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_end)
            os._exit(_run_worker(self._work, index, write_end))
        os.close(write_end)
        self.children[pid] = index
        with os.fdopen(read_end, "rb") as ready:
            built = ready.read(1) == b"1"  # EOF: the worker exited before it was built
        if not built:
            log.error("worker %d exited while starting", index)
        return built

    def supervise(self) -> int:
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code != 0 and self.code == 0 and not (self.stopping and code < 0):
                self.code = code if code > 0 else 1
            if self.stopping:
                continue
            log.error("worker %d (pid %d) exited with %d; starting it again", index, pid, code)
            if not self._may_restart() or not self.start(index):
                self.code = self.code or 1
                self.stop_all(signal.SIGTERM)
        return self.code

    def _may_restart(self) -> bool:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < 60.0]
        self._restarts.append(now)
        if len(self._restarts) > _RESTARTS_PER_MINUTE:
            log.error("workers keep exiting (%d restarts a minute): stopping", len(self._restarts))
            return False
        return True


def _run_worker(work: Work, index: int, ready_fd: int) -> int:
    """In the child: default signal handling (SIGHUP ignored until the gateway takes it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def ready() -> None:
        with contextlib.suppress(OSError):
            os.write(ready_fd, b"1")
            os.close(ready_fd)

    try:
        return work(index, ready)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.exception("worker %d failed", index)
        return 1
