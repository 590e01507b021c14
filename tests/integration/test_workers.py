"""``glassgate serve --workers 2`` as a real process tree, with real IdP tokens.

Two workers under one parent on one socket: both serve, a SIGHUP reload
reaches each, a worker that dies is started again, every decision lands in
one audit chain that verifies, and SIGTERM stops them all. Quota counters
kept in memory cannot hold one limit across workers: refused at start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import base_config, write_config
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

WAIT = 30.0  # generous: a loaded 2-core machine


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.add(int(entry.name))
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workers")


@pytest.fixture(scope="module")
def gateway(oidc_provider: Any, upstream: EchoUpstream, workdir: Path) -> Iterator[GatewayProcess]:
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        routes=[
            {"id": "staff", "match": {"path": "/staff/*"}, "upstream": "app",
             "allow": {"groups": ["Staff"]}},
        ],
        api_keys={"enabled": True, "cache_ttl": "1s", "negative_cache_ttl": "1s"},
    )  # fmt: skip
    write_config(workdir / "gateway.yaml", config)
    process = GatewayProcess(
        workdir / "gateway.yaml", {}, workdir / "gateway.log", args=("--workers", "2")
    )
    process.start(timeout=60)
    yield process
    process.stop()
    log = (workdir / "gateway.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def _workers(gw: GatewayProcess) -> set[int]:
    assert gw.proc is not None
    return _children(gw.proc.pid)


def test_two_workers_serve_and_share_one_audit_chain(
    gateway: GatewayProcess, oidc_provider: Any, workdir: Path
) -> None:
    assert len(_workers(gateway)) == 2
    token = oidc_provider.token(claims={"sub": "sam", "groups": ["Staff"]})
    statuses = []
    for index in range(40):  # a new connection each: the kernel spreads them
        with httpx.Client(timeout=WAIT) as client:
            headers = {"Authorization": f"Bearer {token}"}
            statuses.append(client.get(f"{gateway.url}/staff/{index}", headers=headers).status_code)
    assert statuses == [200] * 40

    def audited() -> int:
        out = subprocess.run(
            [sys.executable, "-m", "glassgate", "audit", "search", "--db",
             str(workdir / "glassgate.db"), "--subject", "sam", "--json", "--limit", "1000"],
            capture_output=True, check=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        return len(json.loads(out))

    eventually(lambda: audited() == 40, what="40 decision records", timeout=WAIT)
    verify = subprocess.run(
        [sys.executable, "-m", "glassgate", "audit", "verify", "--config",
         str(workdir / "gateway.yaml")],
        check=False, capture_output=True, text=True, timeout=120, cwd=workdir, env=gateway.env,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _fresh_get(gw: GatewayProcess, path: str, token: str) -> int:
    with httpx.Client(timeout=WAIT) as client:  # a new connection: any worker may take it
        return client.get(gw.url + path, headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_revoked_api_key_is_refused_by_every_worker(
    gateway: GatewayProcess, workdir: Path
) -> None:
    def apikey(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "glassgate", "apikey", *args, "--config",
             str(workdir / "gateway.yaml")],
            cwd=workdir, env=gateway.env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    key = apikey("create", "--name", "bot", "--subject", "svc:bot", "--group", "Staff",
                 "--all-routes")  # fmt: skip
    assert [_fresh_get(gateway, "/staff/k", key) for _ in range(10)] == [200] * 10
    apikey("revoke", key[3:15])
    time.sleep(2.0)  # the workers' key caches (cache_ttl 1s) have expired
    assert [_fresh_get(gateway, "/staff/k", key) for _ in range(20)] == [401] * 20


def _accepted_by(pid: int, port: int) -> int:
    """How many established connections to ``port`` process ``pid`` holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def test_connections_are_spread_over_both_workers(gateway: GatewayProcess) -> None:
    """One socket per worker (SO_REUSEPORT): the kernel spreads connections, so a proxy's
    keep-alive pool opened in one burst does not all land on one worker."""
    import socket

    held = [socket.create_connection(("127.0.0.1", gateway.port), timeout=WAIT) for _ in range(40)]
    try:
        time.sleep(0.5)  # let both accept
        counts = sorted(_accepted_by(pid, gateway.port) for pid in _workers(gateway))
    finally:
        for sock in held:
            sock.close()
    assert sum(counts) == 40
    # Hashed over two sockets: fewer than 10 of 40 on one is a 1-in-1,500 draw. One shared
    # socket gave an idle worker 17 of 20 here.
    assert counts[0] >= 10, counts


def test_sighup_reaches_every_worker(gateway: GatewayProcess, workdir: Path) -> None:
    assert gateway.proc is not None
    log = workdir / "gateway.log"
    before = log.read_text().count("configuration reloaded")
    gateway.proc.send_signal(signal.SIGHUP)
    eventually(
        lambda: log.read_text().count("configuration reloaded") >= before + 2,
        what="a reload in each of the two workers",
        timeout=WAIT,
    )


def test_a_worker_that_dies_is_started_again(gateway: GatewayProcess) -> None:
    victim = min(_workers(gateway))
    os.kill(victim, signal.SIGKILL)
    eventually(
        lambda: len(workers := _workers(gateway)) == 2 and victim not in workers,
        what="a replacement worker",
        timeout=WAIT,
    )
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if httpx.get(gateway.url + "/healthz", timeout=WAIT).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the gateway did not answer after a worker was replaced")


def test_sigterm_stops_every_worker(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    write_config(tmp_path / "gateway.yaml", base_config(oidc_provider.issuer, upstream.url))
    process = GatewayProcess(
        tmp_path / "gateway.yaml", {}, tmp_path / "gateway.log", args=("--workers", "2")
    )
    process.start(timeout=60)
    assert process.proc is not None
    workers = _children(process.proc.pid)
    assert len(workers) == 2
    process.proc.send_signal(signal.SIGTERM)
    assert process.proc.wait(WAIT) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_quotas_in_memory_are_refused_with_workers(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        quotas={"standard": {"rate": 10, "per": "1s"}},
        routes=[{"id": "r", "match": {"path": "/r/*"}, "upstream": "app", "quota": "standard"}],
    )
    write_config(tmp_path / "gateway.yaml", config)
    done = subprocess.run(
        [sys.executable, "-m", "glassgate", "serve", "--config", str(tmp_path / "gateway.yaml"),
         "--workers", "2"],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "GLASSGATE_LISTEN": f"127.0.0.1:{free_port()}"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "quotas" in done.stderr
    assert "--workers 1" in done.stderr


@pytest.mark.parametrize("value", ["0", "-1", "65", "many", "1.5", ""])
def test_a_bad_worker_count_is_a_usage_error(value: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "glassgate", "serve", "--config", "x.yaml", "--workers", value],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--workers" in done.stderr
