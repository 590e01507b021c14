"""Reload of a running ``glassgate serve``: SIGHUP, file changes, broken configs, in-flight requests.

ISSUE 3 item 7: a new config is validated in full and swapped atomically; a bad
one is reported and the old one keeps serving; requests in flight are not
dropped. Decisions are observed from outside (status codes for tokens of two
groups) and reload outcomes through ``glassgate_config_reloads_total``.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.metrics import sample
from tests.support.polling import eventually, holds_for

pytestmark = pytest.mark.integration

RELOADS = "glassgate_config_reloads_total"


def _config(issuer: str, upstream: str, group: str) -> dict[str, Any]:
    return base_config(
        issuer,
        upstream,
        routes=[
            {
                "id": "team",
                "match": {"path": "/team/*"},
                "upstream": "app",
                "allow": {"groups": [group]},
            }
        ],
    )


def _status(gw: GatewayProcess, token: str, path: str = "/team/x") -> int:
    return httpx.get(gw.url + path, headers={"Authorization": f"Bearer {token}"}).status_code


def _sighup(gw: GatewayProcess) -> None:
    assert gw.proc is not None
    gw.proc.send_signal(signal.SIGHUP)


@pytest.fixture(scope="module")
def tokens(oidc_provider: Any) -> dict[str, str]:
    return {
        group: oidc_provider.token(claims={"sub": f"{group}-user", "groups": [group]})
        for group in ("Red", "Blue")
    }


def _start(oidc_provider: Any, upstream: str, workdir: Path, *args: str) -> GatewayProcess:
    path = workdir / "gateway.yaml"
    write_config(path, _config(oidc_provider.issuer, upstream, "Red"))
    process = GatewayProcess(path, {}, workdir / "gateway.log", args=args)
    process.start()
    return process


@pytest.fixture
def hup_gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> Iterator[GatewayProcess]:
    """A gateway that reloads on SIGHUP only (``--no-watch``)."""
    process = _start(oidc_provider, upstream.url, tmp_path, "--no-watch")
    yield process
    process.stop()
    assert "Traceback" not in process.log.read_text()


def test_sighup_applies_a_new_valid_config(
    hup_gateway: GatewayProcess, oidc_provider: Any, upstream: EchoUpstream, tokens: dict[str, str]
) -> None:
    gw = hup_gateway
    assert (_status(gw, tokens["Red"]), _status(gw, tokens["Blue"])) == (200, 403)
    write_config(Path(gw.config), _config(oidc_provider.issuer, upstream.url, "Blue"))
    # Longer than the file watcher's interval: with --no-watch nothing reloads meanwhile.
    holds_for(lambda: _status(gw, tokens["Blue"]) == 403, seconds=2.5, what="the old config")
    _sighup(gw)
    eventually(lambda: sample(gw.url, RELOADS, result="ok") == 1, what="the reload")
    assert (_status(gw, tokens["Red"]), _status(gw, tokens["Blue"])) == (403, 200)
    assert "configuration reloaded" in gw.log.read_text()


@pytest.mark.parametrize("atomic", [True, False], ids=["case=rename", "case=in-place"])
def test_a_changed_file_is_picked_up(
    oidc_provider: Any, upstream: EchoUpstream, tokens: dict[str, str], tmp_path: Path, atomic: bool
) -> None:
    gw = _start(oidc_provider, upstream.url, tmp_path)
    try:
        assert _status(gw, tokens["Blue"]) == 403
        write_config(Path(gw.config), "routes: [\n", atomic=atomic)  # broken first: reported
        eventually(lambda: sample(gw.url, RELOADS, result="failed") == 1, what="the failed reload")
        assert (_status(gw, tokens["Red"]), _status(gw, tokens["Blue"])) == (200, 403)
        write_config(
            Path(gw.config), _config(oidc_provider.issuer, upstream.url, "Blue"), atomic=atomic
        )
        eventually(lambda: _status(gw, tokens["Blue"]) == 200, what="the new config")
        assert _status(gw, tokens["Red"]) == 403
        assert sample(gw.url, RELOADS, result="ok") == 1
    finally:
        gw.stop()


# --- broken configs: reported, and the old config keeps serving -------------------------------


@pytest.fixture(scope="module")
def steady_gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    process = _start(oidc_provider, upstream.url, tmp_path_factory.mktemp("steady"), "--no-watch")
    yield process
    process.stop()


def _broken(issuer: str, upstream: str, kind: str) -> dict[str, Any] | str | None:
    config = _config(issuer, upstream, "Blue")
    if kind == "yaml-error":
        return "version: 1\nroutes:\n  - id: team\n    match: {path: /team/*\n"
    if kind == "unknown-key":
        config["routes"][0]["allow"] = {"groupz": ["Blue"]}
    elif kind == "unknown-upstream":
        config["routes"][0]["upstream"] = "nope"
    elif kind == "unbuildable-upstream":  # passes validation, fails when the state is built
        config["upstreams"][0]["targets"] = ["https://127.0.0.1:1"]
    elif kind == "missing-file":
        return None
    return config


@pytest.mark.parametrize(
    ("kind", "reported"),
    [
        ("yaml-error", "reload refused"),
        ("unknown-key", "unknown key 'groupz'"),
        ("unknown-upstream", "unknown upstream 'nope'"),
        ("unbuildable-upstream", "only http:// upstream targets"),
        ("missing-file", "cannot read the file"),
    ],
)
def test_a_broken_config_is_reported_and_the_old_one_keeps_serving(
    steady_gateway: GatewayProcess,
    oidc_provider: Any,
    upstream: EchoUpstream,
    tokens: dict[str, str],
    kind: str,
    reported: str,
) -> None:
    gw = steady_gateway
    path = Path(gw.config)
    good = path.read_text()
    failed = sample(gw.url, RELOADS, result="failed")
    broken = _broken(oidc_provider.issuer, upstream.url, kind)
    if broken is None:
        path.unlink()
    else:
        write_config(path, broken)
    try:
        _sighup(gw)
        eventually(
            lambda: sample(gw.url, RELOADS, result="failed") == failed + 1, what="the refusal"
        )
    finally:
        write_config(path, good)
    assert reported in gw.log.read_text()
    assert (_status(gw, tokens["Red"]), _status(gw, tokens["Blue"])) == (200, 403)
    assert httpx.get(gw.url + "/healthz").status_code == 200
    assert sample(gw.url, RELOADS, result="ok") == 0


# --- in-flight requests survive a reload ------------------------------------------------------


class HeldUpstream:
    """Answers ``/team/slow-body`` with a head and half the body, ``/team/slow-head`` with
    nothing, and finishes both only once ``release`` is set."""

    BODY = b"x" * 65536

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            self.arrived.release()
            start = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(self.BODY)
            half = len(self.BODY) // 2
            if b"slow-body" in head.split(b"\r\n", 1)[0]:
                conn.sendall(start + self.BODY[:half])
                self.release.wait(30)
                conn.sendall(self.BODY[half:])
            else:
                self.release.wait(30)
                conn.sendall(start + self.BODY)


def test_requests_in_flight_complete_across_a_reload(
    oidc_provider: Any, tokens: dict[str, str], tmp_path: Path
) -> None:
    held = HeldUpstream()
    gw = _start(oidc_provider, held.url, tmp_path, "--no-watch")
    results: dict[str, tuple[int, int]] = {}

    def fetch(path: str) -> None:
        headers = {"Authorization": f"Bearer {tokens['Red']}"}
        response = httpx.get(gw.url + path, headers=headers, timeout=30)
        results[path] = (response.status_code, len(response.content))

    threads = [
        threading.Thread(target=fetch, args=(p,)) for p in ("/team/slow-body", "/team/slow-head")
    ]
    try:
        for thread in threads:
            thread.start()
        for _ in threads:
            assert held.arrived.acquire(timeout=10), "the upstream never saw the request"
        write_config(Path(gw.config), _config(oidc_provider.issuer, held.url, "Blue"))
        _sighup(gw)
        eventually(lambda: sample(gw.url, RELOADS, result="ok") == 1, what="the reload")
        assert results == {}  # both still in flight after the swap
        held.release.set()
        for thread in threads:
            thread.join(30)
        full = len(HeldUpstream.BODY)
        assert results == {"/team/slow-body": (200, full), "/team/slow-head": (200, full)}
        assert _status(gw, tokens["Red"], "/team/after") == 403  # and the new config decides
    finally:
        held.close()
        gw.stop()
    assert "Traceback" not in gw.log.read_text()
