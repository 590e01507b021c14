"""A config rewritten in place, in two writes, is never served half written (issue 11 H).

The first write ends just before a route's ``allow:``: valid YAML that
validates, with the route open to every valid token. A watcher that reloads
on the first change it sees can serve that until its next poll. The gateway
must instead wait until the file is the same in two polls in a row, so the
half-written file (here on disk for about half a poll interval) is never
loaded, while the finished file is.

The watcher polls every 2 s; each rewrite leaves the half-written file in
place for 1 s, and the four rewrites start at different points of the
watcher's cycle, so a watcher that reloads on the first change it sees loads a
half-written file at least twice, while one that waits for two equal polls
never can (two polls are 2 s apart, the half-written file lasts 1 s).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config

pytestmark = pytest.mark.integration

HALF_WRITTEN_FOR = 1.0  # seconds; the watcher polls every 2 s


def _config(issuer: str, upstream: str, group: str) -> str:
    config = base_config(
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
    text = yaml.safe_dump(config, sort_keys=False)
    assert text.rstrip().endswith(f"- {group}")  # the allow block comes last
    return text


def _rewrite_in_two_writes(path: Path, text: str) -> None:
    """An editor or a script writing in place: first up to ``allow:``, the rest a moment later."""
    cut = text.index("  allow:")
    with path.open("w") as file:  # truncates: the old file is gone at once
        file.write(text[:cut])
        file.flush()
        time.sleep(HALF_WRITTEN_FOR)
        file.write(text[cut:])


def _status(gw: GatewayProcess, token: str) -> int:
    return httpx.get(gw.url + "/team/x", headers={"Authorization": f"Bearer {token}"}).status_code


def _watch(check: Callable[[], int], stop: threading.Event, seen: list[int]) -> None:
    while not stop.is_set():
        seen.append(check())
        time.sleep(0.05)


def _wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the finished config was never loaded"
        time.sleep(0.1)


def test_a_half_written_config_is_never_served(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    tokens = {g: oidc_provider.token(claims={"sub": g, "groups": [g]}) for g in "ABC"}
    outsider = oidc_provider.token(claims={"sub": "outsider", "groups": ["Nobody"]})
    path = tmp_path / "gateway.yaml"
    write_config(path, _config(oidc_provider.issuer, upstream.url, "A"))
    gw = GatewayProcess(path, {}, tmp_path / "gateway.log")
    gw.start()
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=_watch, args=(lambda: _status(gw, outsider), stop, seen))
    watcher.start()
    try:
        # Each rewrite starts at another point of the watcher's 2 s cycle (counted from the
        # reload just seen), so the half-written second falls across a poll more than once.
        for group, offset in (("B", 0.25), ("C", 0.75), ("A", 1.25), ("B", 1.75)):
            time.sleep(offset)
            _rewrite_in_two_writes(path, _config(oidc_provider.issuer, upstream.url, group))
            _wait_for(lambda group=group: _status(gw, tokens[group]) == 200)
    finally:
        stop.set()
        watcher.join()
        gw.stop()
    assert seen
    assert set(seen) == {403}  # the outsider was never let in, not even for a moment


def test_sighup_during_a_rewrite_waits_for_the_finished_file(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    tokens = {g: oidc_provider.token(claims={"sub": g, "groups": [g]}) for g in "AB"}
    outsider = oidc_provider.token(claims={"sub": "outsider", "groups": ["Nobody"]})
    path = tmp_path / "gateway.yaml"
    write_config(path, _config(oidc_provider.issuer, upstream.url, "A"))
    gw = GatewayProcess(path, {}, tmp_path / "gateway.log", args=("--no-watch",))
    gw.start()
    try:
        text = _config(oidc_provider.issuer, upstream.url, "B")
        cut = text.index("  allow:")
        with path.open("w") as file:
            file.write(text[:cut])
            file.flush()
            assert gw.proc is not None
            gw.proc.send_signal(signal.SIGHUP)  # the operator was too quick
            time.sleep(HALF_WRITTEN_FOR)
            assert _status(gw, outsider) == 403
            file.write(text[cut:])
        _wait_for(lambda: _status(gw, tokens["B"]) == 200)
        assert _status(gw, outsider) == 403
    finally:
        gw.stop()
