"""Break-glass end to end in headless Chromium: three people, three virtual keys, one real gateway.

``glassgate serve`` runs the data plane and the console (its own listener);
the real oidc-provider is stopped once the gateway is up, so nothing below
can lean on the IdP. Each person has their own browser context and CDP
virtual authenticator. In order:

1. the CLI creates the account and two custodians and prints their one-time
   links; each enrols in their own browser;
2. ``glassgate drill status`` says the account is overdue (non-zero); a drill
   runs through the browser (sign in, request, two approvals, session, the
   drill route), timed from the sign-in click to the first recovery answer;
   ``drill status`` is then current (zero);
3. the real thing: sign in, request, one approval is not enough, the second
   custodian approves, the session starts (a ``Secure; HttpOnly;
   SameSite=Strict`` cookie); the browser reaches the recovery route through
   the proxy, the sealed credential arrives at a recording upstream and in
   no answer, log line or audit record; the body guard refuses another
   domain; every other route is 403; the cookie is useless from another
   address; a custodian ends the session and the requester sees it end;
4. the account is locked; a quorum reset hands one custodian the link; the
   holder rotates password and key; the old ones fail, the link is used up;
5. the incident is closed, ``glassgate audit verify`` passes;
6. with the only alert sink down and ``alerts.required``, a session does not
   start and nothing changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.breakglass import stored_without
from tests.support.browser import Chromium, Person
from tests.support.console_pages import (
    PASSWORD,
    approve,
    approve_reset,
    enrol,
    file_request,
    sign_in,
    start_session,
    status_text,
    try_sign_in,
)
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import SEALED_ENV, breakglass_config, write_config
from tests.support.idp import OidcProvider, require_integration
from tests.support.relay import AddressRelay

pytestmark = pytest.mark.integration

SEALED = "00sealed-okta-api-token-never-shown"
NEW_PASSWORD = "a new passphrase after the incident"
ALLOWED = '{"domain": "example.com", "sso": {"issuer": "https://idp.example.com"}}'
EVIL = '{"domain": "evil.example", "sso": {"issuer": "https://evil.example"}}'


@dataclass
class Gateway:
    process: GatewayProcess
    config: Path
    workdir: Path
    upstream: EchoUpstream
    hooks: EchoUpstream
    console: str  # http://localhost:PORT: the WebAuthn origin
    data: str  # http://localhost:PORT: the same host name, so the browser's cookie goes there

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "glassgate", *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env={
                SEALED_ENV: SEALED,
                "GLASSGATE_LISTEN": f"127.0.0.1:{self.process.port}",
                "PATH": "/usr/bin:/bin",
            },
            check=False,
            timeout=60,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    require_integration()
    workdir = tmp_path_factory.mktemp("breakglass-browser")
    (workdir / "idp").mkdir()
    idp = OidcProvider(workdir / "idp")
    idp.start()
    upstream, hooks = EchoUpstream(echo_headers=False), EchoUpstream()
    console = free_port()
    path = workdir / "gateway.yaml"
    write_config(
        path, breakglass_config(idp.issuer, upstream.url, hooks.url, workdir, console_port=console)
    )
    process = GatewayProcess(path, {SEALED_ENV: SEALED}, workdir / "gateway.log", ("--no-watch",))
    try:
        process.start()
        idp.stop()  # from here on the IdP is down: break-glass must not need it
        yield Gateway(
            process,
            path,
            workdir,
            upstream,
            hooks,
            f"http://localhost:{console}",
            f"http://localhost:{process.port}",
        )
    finally:
        process.stop()
        idp.stop()
        upstream.close()
        hooks.close()


# --- the steps -----------------------------------------------------------------------------


def _enrol_everyone(gateway: Gateway, people: Chromium) -> dict[str, Person]:
    team = {}
    for command, name in (("breakglass", "ops"), ("custodian", "alice"), ("custodian", "bob")):
        link = gateway.cli(command, "create", name).stdout.strip().splitlines()[0]
        assert link.startswith(f"{gateway.console}/enrol/")
        person = people.person(name)
        enrol(person, link)
        assert person.credential().rp_id == "localhost"
        team[name] = person
    return team


def _activate(gateway: Gateway, team: dict[str, Person], *, drill: bool) -> tuple[str, str, str]:
    """Request, approve twice, start: (request id, session id, bearer token)."""
    ops, alice, bob = team["ops"], team["alice"], team["bob"]
    origin = gateway.console
    if drill:
        request_id = file_request(
            ops, origin, "Quarterly break-glass drill", "DRILL-Q4", drill=True
        )
    else:
        request_id = file_request(ops, origin, "Okta SSO broken: no admin can sign in", "INC-42")
    for custodian in (alice, bob):
        sign_in(custodian, origin, custodian.name)
    approve(alice, origin, request_id)
    ops.page.goto(origin + "/")
    assert ops.page.get_by_role("button", name="Start the session").count() == 0, "1 of 2"
    approve(bob, origin, request_id)
    session_id, token = start_session(ops, origin)
    return request_id, session_id, token


def _drill(gateway: Gateway, team: dict[str, Person]) -> float:
    """The automated drill; returns the machine time from the sign-in click to the first
    successful answer on the drill route."""
    ops = team["ops"]
    before = gateway.cli("drill", "status", check=False)
    assert before.returncode != 0
    assert "OVERDUE ops" in before.stdout
    started = time.perf_counter()
    sign_in(ops, gateway.console, "ops")
    _, session_id, _ = _activate(gateway, team, drill=True)
    answer = ops.page.goto(gateway.data + "/drill/ping")
    elapsed = time.perf_counter() - started
    assert answer is not None
    assert answer.status == 200
    out_of_scope = ops.page.goto(gateway.data + "/api/v1/users")
    assert out_of_scope is not None
    assert out_of_scope.status == 403, "a drill reaches the drill route only"
    _end(ops, gateway.console, session_id)
    after = gateway.cli("drill", "status", check=False)
    assert after.returncode == 0, after.stdout
    return elapsed


def _end(person: Person, origin: str, session_id: str) -> None:
    person.page.goto(f"{origin}/sessions/{session_id}")
    person.page.get_by_role("button", name="End the session now").click()
    person.page.wait_for_url(f"{origin}/sessions/{session_id}")
    assert person.page.locator(".state").inner_text().lower() == "ended"


def _fetch(person: Person, method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """A same-origin fetch from a data-plane page, as the browser sends it (cookie included)."""
    return dict(
        person.page.evaluate(
            """async ([method, path, body]) => {
                const r = await fetch(path, {method, body, credentials: "same-origin",
                                              headers: {"Content-Type": "application/json"}});
                return {status: r.status, text: await r.text()};
            }""",
            [method, path, body],
        )
    )


def _use_the_recovery_route(gateway: Gateway, ops: Person, token: str) -> list[str]:
    """Every answer the browser saw on the data plane (none may hold the sealed credential)."""
    gateway.upstream.clear()
    answer = ops.page.goto(gateway.data + "/api/v1/users?limit=1")
    assert answer is not None
    assert answer.status == 200
    (seen,) = gateway.upstream.requests
    assert seen.header("authorization") == f"SSWS {SEALED}"
    forwarded = json.dumps(seen.headers)
    for own in ("gg_breakglass", "gg_console", "gg_csrf", token):
        assert own not in forwarded, f"{own} reached the upstream"
    texts = [answer.text()]

    allowed = _fetch(ops, "PUT", "/api/v1/idps/7", ALLOWED)
    assert allowed["status"] == 200
    assert gateway.upstream.requests[-1].body == ALLOWED.encode()
    refused = _fetch(ops, "PUT", "/api/v1/idps/7", EVIL)
    assert refused["status"] == 403
    assert json.loads(refused["text"])["reason"] == "body-guard-denied"
    assert len(gateway.upstream.requests) == 2, "the refused body never left the gateway"
    texts += [allowed["text"], refused["text"]]

    for path in ("/reports/q3", "/drill/ping", "/nowhere"):
        other = ops.page.goto(gateway.data + path)
        assert other is not None
        assert other.status == 403, path
        texts.append(other.text())
    assert len(gateway.upstream.requests) == 2
    return texts


def _stolen_cookie(gateway: Gateway, people: Chromium, ops: Person) -> None:
    with AddressRelay("127.0.0.9") as relay:
        thief = people.person("thief", proxy=relay.url)
        thief.context.add_cookies(ops.context.cookies())
        answer = thief.page.goto(gateway.data + "/api/v1/users")
        assert answer is not None
        assert answer.status == 401
        thief.close()


def _reset(gateway: Gateway, people: Chromium, team: dict[str, Person]) -> None:
    ops, alice, bob = team["ops"], team["alice"], team["bob"]
    old_key, old_id = ops.export_keys()[0], ops.credential().credential_id
    reset_id = gateway.cli("breakglass", "reset", "ops", "--reason", "rotate after use")
    request_id = reset_id.stdout.strip().splitlines()[0]
    approve(alice, gateway.console, request_id)
    link = approve_reset(bob, gateway.console, request_id)
    assert link.startswith(f"{gateway.console}/reset/")
    enrol(ops, link, NEW_PASSWORD)
    assert ops.credential().credential_id != old_id, "a new key (it replaced the old one)"
    try_sign_in(ops, gateway.console, "ops", PASSWORD)
    assert "sign-in failed" in status_text(ops), "the old password is gone"
    sign_in(ops, gateway.console, "ops", NEW_PASSWORD)
    kept = people.person("old-key")  # someone who kept a copy of the retired key
    kept.import_key(old_key)
    try_sign_in(kept, gateway.console, "ops", NEW_PASSWORD)
    assert status_text(kept) != "", "the retired key no longer signs in"
    kept.page.goto(gateway.console + "/")
    assert kept.page.url.endswith("/sign-in")
    again = team["alice"]
    again.page.goto(link)
    again.page.fill("#f-password", NEW_PASSWORD + "!")
    again.page.fill("#f-password_again", NEW_PASSWORD + "!")
    again.page.click("form[data-ceremony] button[type=submit]")
    assert "this link is not valid" in status_text(again), "a reset link works once"


def _no_secret_anywhere(gateway: Gateway, answers: list[str], token: str) -> None:
    for text in answers:
        assert SEALED not in text
    audit = stored_without(gateway.workdir, gateway.process.log, SEALED, token)
    assert b"breakglass.session.body-refused" in audit


def _alerts_down(gateway: Gateway, team: dict[str, Person]) -> None:
    ops, alice, bob = team["ops"], team["alice"], team["bob"]
    request_id = file_request(ops, gateway.console, "Second incident", "INC-43")
    approve(alice, gateway.console, request_id)
    approve(bob, gateway.console, request_id)
    gateway.hooks.close()  # the only alert sink
    ops.page.goto(gateway.console + "/")
    ops.page.get_by_role("button", name="Start the session").click()
    ops.page.wait_for_load_state()
    assert "nothing was changed" in ops.page.content(), ops.page.inner_text("main")
    assert ops.page.locator("#session-token").count() == 0
    ops.page.goto(gateway.console + "/")
    assert ops.page.get_by_text("No break-glass session is active.").is_visible()


# --- the test ------------------------------------------------------------------------------


def test_break_glass_end_to_end_in_the_browser(gateway: Gateway, people: Chromium) -> None:
    team = _enrol_everyone(gateway, people)
    ops, alice = team["ops"], team["alice"]

    drill_seconds = _drill(gateway, team)
    history = json.loads(gateway.cli("drill", "history", "--json").stdout)
    (record,) = history
    assert record["result"] == "passed"
    print(
        f"\nDRILL sign-in click -> first recovery answer: {drill_seconds:.2f} s machine time; "
        f"the drill record's time to access: {record['time_to_access']:.2f} s"
    )

    sign_in(ops, gateway.console, "ops")
    request_id, session_id, token = _activate(gateway, team, drill=False)
    cookies = {c["name"]: c for c in ops.context.cookies()}
    assert cookies["gg_breakglass"]["value"] == token
    assert (cookies["gg_breakglass"]["httpOnly"], cookies["gg_breakglass"]["secure"]) == (
        True,
        True,
    )
    assert cookies["gg_breakglass"]["sameSite"] == "Strict"
    answers = _use_the_recovery_route(gateway, ops, token)
    _stolen_cookie(gateway, people, ops)

    _end(alice, gateway.console, session_id)  # a custodian ends it early
    ops.page.goto(f"{gateway.console}/sessions/{session_id}")
    assert ops.page.locator(".state").inner_text().lower() == "ended"
    assert "by custodian:alice" in ops.page.content()
    after = ops.page.goto(gateway.data + "/api/v1/users")
    assert after is not None
    assert after.status == 401

    try_sign_in(ops, gateway.console, "ops")
    assert "locked" in status_text(ops).lower()
    assert gateway.cli("breakglass", "status", check=False).returncode == 1
    _reset(gateway, people, team)

    report = json.loads(gateway.cli("breakglass", "report", request_id, "--json").stdout)
    seen = {(r["method"], r["path"], r["status"]) for r in report["requests"]}
    assert ("GET", "/api/v1/users", 200) in seen
    assert ("PUT", "/api/v1/idps/7", 200) in seen, seen
    assert report["audit_verified"] is True
    incidents = json.loads(gateway.cli("breakglass", "incidents", "--json").stdout)
    (incident,) = [i for i in incidents if i["request_id"] == request_id]
    gateway.cli("breakglass", "close-incident", incident["id"], "--notes", "SSO restored")
    assert gateway.cli("breakglass", "status").returncode == 0
    assert "audit log intact" in gateway.cli("audit", "verify").stdout

    kinds = [json.loads(r.body)["alert"]["kind"] for r in gateway.hooks.requests]
    for kind in ("breakglass.activation.activated", "breakglass.session.first-use"):
        assert kind in kinds
    _no_secret_anywhere(gateway, answers, token)
    _alerts_down(gateway, team)
    for person in team.values():
        assert person.csp_violations() == [], person.name
