"""The lockout guard follows the configuration that serves, never a refused reload.

A reload is built, started and checked before it is swapped in; the
directory's protected groups change only at the swap. A reload that lowers a
minimum but fails to start leaves the old minimum guarding the directory.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from glassgate.app.directory import open_directory
from glassgate.app.runtime import Runtime
from glassgate.app.state import StateHolder
from glassgate.config.load import load_config
from glassgate.config.schema import Config
from glassgate.errors import IdPUnavailableError
from tests.support.proxy_harness import FakeAuthenticator, gateway_config

BROKEN_ISSUER = "http://127.0.0.1:9401"


class DownAuthenticator(FakeAuthenticator):
    async def start(self) -> None:
        raise IdPUnavailableError("discovery: the IdP does not answer")


def _authenticator(config: Config, runtime: Runtime) -> FakeAuthenticator:
    broken = config.issuers[0].issuer == BROKEN_ISSUER
    return DownAuthenticator() if broken else FakeAuthenticator()


def _config(directory: Path, minimum: int, issuer: str = "http://127.0.0.1:9400") -> str:
    text = gateway_config(
        "http://127.0.0.1:9",
        f"""\
        routes: []
        storage: {{sqlite: {{path: "{directory / "glassgate.db"}"}}}}
        directory: {{protected_groups: {{Admins: {minimum}}}}}
        """,
    )
    return text.replace("http://127.0.0.1:9400", issuer)


class NoAudit:
    async def append(self, event: object) -> object:
        raise AssertionError("nothing is written here")


class NoAlerts:
    async def send(self, alert: object, *, required: bool = False) -> None:
        raise AssertionError("nothing is alerted here")


def _minimums(holder: StateHolder) -> dict[str, int]:
    assert holder.runtime.directory is not None
    return {g.name: g.minimum for g in holder.runtime.directory.service.guard.protected}


def test_the_guard_changes_with_the_serving_configuration_only() -> None:
    async def body() -> None:
        with tempfile.TemporaryDirectory() as name:
            directory = Path(name)
            path = directory / "gateway.yaml"
            path.write_text(_config(directory, 2))
            runtime = Runtime(authenticator=_authenticator)
            config = load_config(str(path)).config
            runtime.directory = open_directory(config, NoAudit(), NoAlerts(), runtime.clock)
            holder = StateHolder(str(path), runtime)
            await holder.start()
            try:
                assert _minimums(holder) == {"Admins": 2}
                path.write_text(_config(directory, 1, BROKEN_ISSUER))
                assert not await holder.reload()  # built, failed to start: refused
                assert _minimums(holder) == {"Admins": 2}
                old = holder.state
                path.write_text(_config(directory, 3))
                assert await holder.reload()
                await old.aclose()
                assert _minimums(holder) == {"Admins": 3}
            finally:
                await holder.aclose()

    asyncio.run(body())
