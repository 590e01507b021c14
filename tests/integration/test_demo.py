"""``glassgate demo`` as a new user runs it: one process, printed commands, then Ctrl-C.

The JSON test drives every sample with httpx and checks the details (the echo,
the RFC 9470 challenge, Retry-After); the text test runs the printed ``curl``
commands themselves in a shell, as the README tells people to.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.support.browser import Chromium
from tests.support.console_pages import approve, enrol, file_request, sign_in, start_session
from tests.support.gateway import ROOT

pytestmark = pytest.mark.integration

START_TIMEOUT = 30.0
RULE = "=" * 78
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


class Demo:
    """A running ``glassgate demo``; stdout is read line by line on a thread."""

    def __init__(self, proc: subprocess.Popen[str], stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float = START_TIMEOUT) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the demo printed nothing for {timeout} s: {self.log()[-3000:]}")
        if line is None:
            pytest.fail(f"the demo exited ({self.proc.poll()}): {self.log()[-3000:]}")
        return line

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def stop(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=15)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def run(*args: str) -> Demo:
        stderr = tmp_path / f"demo-{len(procs)}.log"
        with stderr.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "glassgate", "demo", "--port", "0", *args],
                cwd=ROOT,
                env={**os.environ, "NO_PROXY": "*"},
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        procs.append(proc)
        return Demo(proc, stderr)

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _check_sample(client: httpx.Client, sample: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {sample['token']}"} if sample["token"] else {}
    for expected in sample["expect"]:
        response = client.request(sample["method"], sample["url"], headers=headers)
        assert response.status_code == expected, (sample["name"], response.text)
        if expected == 200:
            document = response.json()
            assert document["target"] == httpx.URL(sample["url"]).raw_path.decode()
            identity = document["identity_headers"]
            assert identity["x-glassgate-subject"]
            assert identity["x-glassgate-issuer"].endswith("/development-only")
            assert identity["x-glassgate-identity"].count(".") == 2
            assert document["other_headers"]["authorization"] == "(present, not echoed)"
        elif expected == 401:
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer")
            if sample["name"] == "step-up":
                assert 'error="insufficient_user_authentication"' in challenge
        elif expected == 429:
            assert int(response.headers["retry-after"]) >= 1
            assert "ratelimit-policy" in response.headers
        elif expected == 403:
            assert response.json()["error"] == "forbidden"


def test_json_summary_drives_allow_403_step_up_and_429(start: Any) -> None:
    demo: Demo = start("--json")
    summary = json.loads(demo.line())
    assert summary["development_only"] is True
    assert "DEVELOPMENT ONLY" in summary["warning"]
    assert summary["gateway"].startswith("http://127.0.0.1:")
    config = Path(summary["config"])
    assert config.is_file()
    seen = {status for sample in summary["samples"] for status in sample["expect"]}
    assert {200, 401, 403, 429} <= seen

    with httpx.Client(trust_env=False, timeout=10) as client:
        for sample in summary["samples"]:
            _check_sample(client, sample)
        discovery = client.get(summary["discovery_uri"]).json()
        assert discovery["issuer"] == summary["issuer"]
        jwks = client.get(summary["jwks_uri"]).json()
        assert jwks["keys"]
        assert not PRIVATE_MEMBERS & set(jwks["keys"][0])
        assert client.get(summary["gateway"] + "/healthz").status_code == 200

    grant = _grant_line(demo)  # after the summary: the grant filed and approved at start
    assert grant["expect"] == [200]
    with httpx.Client(trust_env=False, timeout=10) as client:
        _check_sample(client, grant)

    assert demo.stop(signal.SIGINT) == 0
    log = demo.log()
    assert "Traceback" not in log, log
    assert "[DEVELOPMENT ONLY issuer]" in log
    assert "glassgate demo stopped" in log
    assert not config.parent.exists()  # the temporary directory went with the demo


def _grant_line(demo: Demo) -> dict[str, Any]:
    """The JSON line naming the demo's grant; alert lines may come before it."""
    for _ in range(20):
        document = json.loads(demo.line())
        if "grant" in document:
            return dict(document["grant"])
    raise AssertionError("the demo printed no grant line")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_printed_curl_commands_do_what_their_comments_say(start: Any) -> None:
    demo: Demo = start()
    lines = [demo.line()]
    while lines.count(RULE) < 4:
        lines.append(demo.line())
    assert lines[0] == RULE
    assert lines[1].strip().startswith("DEVELOPMENT ONLY")
    checked = 0
    for index, line in enumerate(lines):
        match = re.fullmatch(r"# \d+\. (\S+): expect ([\d ]+)", line)
        if match is None:
            continue
        command = lines[index + 2]
        assert command.startswith(("curl ", "for "))
        run = subprocess.run(
            ["sh", "-c", command], capture_output=True, text=True, timeout=30, check=False
        )
        statuses = re.findall(r"^HTTP/1\.1 (\d{3})", run.stdout, flags=re.MULTILINE)
        assert statuses == match.group(2).split(), (match.group(1), run.stdout, run.stderr)
        if "429" in statuses:
            assert re.search(r"^retry-after: \d+", run.stdout, flags=re.MULTILINE | re.IGNORECASE)
        checked += 1
    assert checked >= 5
    assert demo.stop(signal.SIGTERM) == 0
    assert "Traceback" not in demo.log()


def test_the_break_glass_path_a_person_can_walk_in_a_browser(start: Any, people: Chromium) -> None:
    demo: Demo = start("--json")
    summary = json.loads(demo.line())
    breakglass = summary["breakglass"]
    console = breakglass["console"]
    assert console.startswith("http://localhost:")
    links = {link["name"]: link["url"] for link in breakglass["enrolment_links"]}
    assert set(links) == {"demo-admin", "demo-alice", "demo-bob"}
    team = {}
    for name, link in links.items():
        person = people.person(name)
        enrol(person, link)
        sign_in(person, console, name)
        team[name] = person
    request_id = file_request(team["demo-admin"], console, "trying the demo", "DEMO-1")
    approve(team["demo-alice"], console, request_id)
    approve(team["demo-bob"], console, request_id)
    start_session(team["demo-admin"], console)
    answer = team["demo-admin"].page.goto(breakglass["recovery_url"])
    assert answer is not None
    assert answer.status == 200
    document = json.loads(answer.text())
    assert document["other_headers"]["authorization"] == "(present, not echoed)"
    assert "SSWS" not in answer.text()
    alerts = []
    while len(alerts) < 20 and "breakglass.session.first-use" not in alerts:
        line = json.loads(demo.line())
        if "alert" in line:  # the demo's grant line comes among the alerts
            alerts.append(line["alert"]["kind"])
    assert "breakglass.activation.activated" in alerts
    assert demo.stop(signal.SIGINT) == 0
    assert "Traceback" not in demo.log()
