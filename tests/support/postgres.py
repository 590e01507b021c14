"""A throwaway PostgreSQL server for tests and benchmarks (RECIPES.md section 7).

``ThrowawayPostgres`` runs ``initdb`` and ``postgres`` in a temporary
directory, in the foreground as a child of this process, bound to 127.0.0.1
with its Unix socket in the same directory. When the tests run as root (as
in CI), both run as the ``postgres`` user: ``initdb`` refuses root.

Fixtures:

- ``postgres_server`` (session): the running server. Skipped with a reason
  when the binaries are missing, unless ``GLASSGATE_REQUIRE_INTEGRATION=1``,
  which turns the skip into a failure (CI must not silently skip).
- ``postgres_dsn``: a fresh, empty database per test.
- ``glassgate_postgres_dsn``: a fresh database per test with every glassgate
  migration applied (copied from a template migrated once per session).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.support.integration import skip_or_fail

__all__ = [
    "ThrowawayPostgres",
    "find_postgres_bindir",
    "glassgate_postgres_dsn",
    "postgres_dsn",
    "postgres_server",
]

_TEMPLATE = "glassgate_template"


def find_postgres_bindir() -> str | None:
    """The newest ``/usr/lib/postgresql/*/bin``, or wherever ``initdb`` is on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
    )
    for bindir in reversed(candidates):
        if Path(bindir, "initdb").exists() and Path(bindir, "postgres").exists():
            return bindir
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """``with ThrowawayPostgres(bindir) as pg: pg.dsn()``; everything is removed on exit.

    ``durable=False`` (tests) turns fsync off for speed; benchmarks pass
    ``durable=True`` to measure what production would see.
    """

    def __init__(self, bindir: str, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.port = _free_port()
        self._user = "postgres" if os.geteuid() == 0 else None
        self._dir = Path(tempfile.mkdtemp(prefix="glassgate-pg-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self._dir, entry.pw_uid, entry.pw_gid)
        data = self._dir / "data"
        subprocess.run(
            [
                f"{self.bindir}/initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            user=self._user,
            cwd=self._dir,
        )
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=50"]
        if not self.durable:
            settings += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        with open(self._dir / "postgres.log", "wb") as log:
            self._process = subprocess.Popen(
                [
                    f"{self.bindir}/postgres",
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self._dir),
                    *settings,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._user,
                cwd=self._dir,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{self.log_tail()}")
            try:
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start:\n{self.log_tail()}") from None
                time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        path = self._dir / "postgres.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (optionally copied from ``template``); returns its DSN."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(statement)
        return self.dsn(name)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    bindir = find_postgres_bindir()
    if bindir is None:
        reason = "PostgreSQL binaries (initdb, postgres) not found; install postgresql-15"
        skip_or_fail(reason)
    with ThrowawayPostgres(bindir) as server:
        yield server


@pytest.fixture
def postgres_dsn(postgres_server: ThrowawayPostgres) -> str:
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def _glassgate_template(postgres_server: ThrowawayPostgres) -> str:
    from glassgate.adapters.storage.migrate import upgrade
    from glassgate.adapters.storage.target import StorageTarget

    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_TEMPLATE)))
    upgrade(StorageTarget("postgres", postgres_server.dsn(_TEMPLATE)))
    return _TEMPLATE


@pytest.fixture
def glassgate_postgres_dsn(postgres_server: ThrowawayPostgres, _glassgate_template: str) -> str:
    return postgres_server.create_database(template=_glassgate_template)
