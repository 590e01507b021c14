"""Start ``glassgate serve`` as a real process for tests, and wait until it is ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["GatewayProcess", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GatewayProcess:
    def __init__(
        self, config: str | Path, env: dict[str, str], log: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.args = args  # extra `glassgate serve` arguments, e.g. ("--no-watch",)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Absolute, because the process runs in the log's directory: its SQLite
        # database and audit files land there, not in the checkout.
        self.config = str(config if Path(config).is_absolute() else ROOT / config)
        self.log = log
        self.env = {
            **os.environ,
            **env,
            "GLASSGATE_LISTEN": f"127.0.0.1:{self.port}",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "glassgate", "serve", "--config", self.config, *self.args],
                cwd=self.log.parent,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gateway not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
