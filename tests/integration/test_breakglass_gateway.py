"""Break-glass end to end through a real ``glassgate serve`` process, with the IdP stopped.

The console's part (enrolment through one-time links, sign-in with password
and key, custodian approvals) runs in-process on the same database with the
software authenticator; the data plane is the real gateway process: the
session reaches the recovery route with the sealed credential arriving at a
recording upstream (never in a response, the gateway's log or an audit
record), is refused everywhere else, by its body guard, from another
address, and after its end. Then the account is locked, a quorum reset
issues a link, rotation works, the incident is closed, and
``glassgate audit verify`` passes.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from glassgate.errors import AccountLockedError, AlertDeliveryError, AuthenticationFailedError
from glassgate.types import Secret
from glassgate.workflows.service import BreakglassService
from tests.support.authenticator import SoftAuthenticator
from tests.support.breakglass import LOOPBACK, ORIGIN, PASSWORD, ConfigWorld, stored_without
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import SEALED_ENV, breakglass_config, write_config
from tests.support.idp import OidcProvider

pytestmark = pytest.mark.integration

SEALED = "00sealed-okta-api-token-never-shown"
ALLOWED_DOMAIN = '{"domain": "example.com", "sso": {"issuer": "https://idp.example.com"}}'


@dataclass
class Setup:
    gateway: GatewayProcess
    config: Path
    upstream: EchoUpstream
    hooks: EchoUpstream
    world: ConfigWorld
    workdir: Path
    idp: OidcProvider


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("breakglass")
    idp = OidcProvider(workdir / "idp")
    (workdir / "idp").mkdir()
    idp.start()
    upstream, hooks = EchoUpstream(), EchoUpstream()
    path = workdir / "gateway.yaml"
    write_config(path, breakglass_config(idp.issuer, upstream.url, hooks.url, workdir))
    env = {SEALED_ENV: SEALED}
    gateway = GatewayProcess(path, env, workdir / "gateway.log", ("--no-watch",))
    try:
        gateway.start()
        idp.stop()  # from here on the IdP is down: break-glass must not need it
        listen = {"GLASSGATE_LISTEN": f"127.0.0.1:{gateway.port}"}
        world = ConfigWorld(path, {**env, **listen}, config_alerts=True)
        yield Setup(gateway, path, upstream, hooks, world, workdir, idp)
    finally:
        gateway.stop()
        idp.stop()
        upstream.close()
        hooks.close()


def _enrol_all(setup: Setup) -> None:
    for command, name in (("breakglass", "ops"), ("custodian", "alice"), ("custodian", "bob")):
        link = _cli(setup, command, "create", name).strip()
        assert link.startswith(f"{ORIGIN}/enrol/")
        setup.world.enrol(name, link)


def _env(setup: Setup) -> dict[str, str]:
    return {
        SEALED_ENV: SEALED,
        "GLASSGATE_LISTEN": f"127.0.0.1:{setup.gateway.port}",
        "PATH": "/usr/bin:/bin",
    }


def _cli(setup: Setup, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "glassgate", *args, "--config", str(setup.config)],
        capture_output=True,
        cwd=setup.workdir,
        env=_env(setup),
        check=False,
        timeout=60,
    )
    if check:
        assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _activate(setup: Setup, *, drill: bool = False) -> tuple[str, str]:
    world = setup.world

    async def act(service: BreakglassService) -> tuple[str, str]:
        ops = await world.sign_in(service, "ops")
        reason = "quarterly drill" if drill else "Okta SSO broken, no admin can sign in"
        request = await service.activations.request(
            ops, reason, None if drill else "INC-42", drill=drill
        )
        first = await world.approve(service, "alice", request.id)
        assert first.request.state == "pending"  # one approval of two is not enough
        await world.approve(service, "bob", request.id)
        started = await service.sessions.activate(ops, request.id, LOOPBACK)
        return request.id, started.token.reveal()

    return world.run(act)


def _get(setup: Setup, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(
        kwargs.pop("method", "GET"), setup.gateway.url + path, headers=headers, timeout=10, **kwargs
    )


def _from_other_address(setup: Setup, path: str, token: str, **headers: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as client:
        auth = {"Authorization": f"Bearer {token}", **headers}
        return client.get(setup.gateway.url + path, headers=auth)


def test_the_whole_path(setup: Setup) -> None:
    _enrol_all(setup)
    request_id, token = _activate(setup)

    # the recovery route: the sealed credential arrives upstream, the session token does not
    setup.upstream.clear()
    answer = _get(setup, "/api/v1/users?limit=1", token)
    assert answer.status_code == 200
    (seen,) = setup.upstream.requests
    assert seen.header("authorization") == f"SSWS {SEALED}"
    assert token not in json.dumps(seen.headers)
    # the browser's copy: the cookie works too, and never reaches the upstream
    setup.upstream.clear()
    cookie = _get(setup, "/api/v1/users", headers={"Cookie": f"a=1; gg_breakglass={token}"})
    assert cookie.status_code == 200
    assert setup.upstream.requests[0].header("cookie") == "a=1"

    # the body guard: allowed domain through (body intact), another domain refused
    setup.upstream.clear()
    allowed = _get(setup, "/api/v1/idps/7", token, method="PUT", content=ALLOWED_DOMAIN)
    assert allowed.status_code == 200
    assert setup.upstream.requests[0].body == ALLOWED_DOMAIN.encode()
    refused = _get(
        setup, "/api/v1/idps/7", token, method="PUT", content='{"domain": "evil.example"}'
    )
    assert refused.status_code == 403
    assert refused.json()["reason"] == "body-guard-denied"
    assert len(setup.upstream.requests) == 1

    # everything else is out of scope, and the session is bound to its address
    elsewhere = _get(setup, "/reports/q3", token)
    assert elsewhere.status_code == 403
    assert elsewhere.json()["reason"] == "breakglass-out-of-scope"
    assert _get(setup, "/drill/ping", token).json()["reason"] == "breakglass-out-of-scope"
    assert _from_other_address(setup, "/api/v1/users", token).status_code == 401
    spoofed = _from_other_address(setup, "/api/v1/users", token, **{"X-Forwarded-For": "127.0.0.1"})
    assert spoofed.status_code == 401
    for refusal in (refused, elsewhere, spoofed):  # glassgate's own answers never carry it
        assert SEALED not in refusal.text

    # end it: refused at once; the account is locked; an incident is open
    world = setup.world

    async def end(service: BreakglassService) -> None:
        alice = await world.sign_in(service, "alice")
        (live,) = await service.sessions.active(alice)
        await service.sessions.end(alice, live.id)
        with pytest.raises(AccountLockedError):
            await world.sign_in(service, "ops")

    world.run(end)
    assert _get(setup, "/api/v1/users", token).status_code == 401
    status = subprocess.run(
        [sys.executable, "-m", "glassgate", "breakglass", "status", "--config", str(setup.config)],
        capture_output=True,
        cwd=setup.workdir,
        env=_env(setup),
        check=False,
    )
    assert status.returncode == 1

    # quorum reset -> link -> rotation -> sign in again
    reset_id = _cli(setup, "breakglass", "reset", "ops", "--reason", "rotate after use").strip()

    async def rotate(service: BreakglassService) -> None:
        await world.approve(service, "alice", reset_id)
        done = await world.approve(service, "bob", reset_id)
        assert done.reset_link is not None
        token = done.reset_link.token.reveal()
        start = await service.enrolment.begin(token)
        device = SoftAuthenticator(ORIGIN)
        credential = device.create(start.ceremony.public_key)
        await service.enrolment.finish(
            token, start.ceremony.challenge_id, Secret("a new passphrase after use"), credential
        )
        old = world.devices["ops"]
        world.devices["ops"] = device
        world.passwords["ops"] = "a new passphrase after use"
        options = await service.sign_in.begin("ops", LOOPBACK)
        signed = await service.sign_in.finish(
            "ops",
            Secret("a new passphrase after use"),
            options.challenge_id,
            device.get(options.public_key),
            LOOPBACK,
        )
        assert signed.actor.name == "ops"
        old.ignore_allow_list = True
        options = await service.sign_in.begin("ops", LOOPBACK)
        with pytest.raises(AuthenticationFailedError):
            await service.sign_in.finish(
                "ops", Secret(PASSWORD), options.challenge_id, old.get(options.public_key), LOOPBACK
            )

    world.run(rotate)

    # the report, then closing the incident; the log verifies
    report = json.loads(_cli(setup, "breakglass", "report", request_id, "--json"))
    paths = [(r["method"], r["path"], r["status"]) for r in report["requests"]]
    assert ("GET", "/api/v1/users", 200) in paths
    assert ("GET", "/reports/q3", 403) in paths
    assert report["audit_verified"] is True
    incident = json.loads(_cli(setup, "breakglass", "incidents", "--json"))[0]
    _cli(setup, "breakglass", "close-incident", incident["id"], "--notes", "SSO restored")
    assert _cli(setup, "breakglass", "status").startswith("break-glass: no open incidents")
    assert "audit log intact" in _cli(setup, "audit", "verify")

    # alerts were heard; the sealed credential is nowhere but upstream
    kinds = [json.loads(r.body)["alert"]["kind"] for r in setup.hooks.requests]
    for kind in ("breakglass.activation.activated", "breakglass.session.first-use"):
        assert kind in kinds
    everything = stored_without(setup.workdir, setup.gateway.log, SEALED, token)
    assert b"breakglass.session.body-refused" in everything


def test_drill_through_the_gateway(setup: Setup) -> None:
    world = setup.world
    if "ops" not in world.devices:
        _enrol_all(setup)
    request_id, token = _activate(setup, drill=True)
    assert _get(setup, "/drill/ping", token).status_code == 200
    assert _get(setup, "/api/v1/users", token).json()["reason"] == "breakglass-out-of-scope"

    async def end(service: BreakglassService) -> None:
        ops = await world.sign_in(service, "ops")  # a drill does not lock the account
        (live,) = await service.sessions.active(ops)
        await service.sessions.end(ops, live.id)

    world.run(end)
    history = json.loads(_cli(setup, "drill", "history", "--json"))
    (drill,) = [d for d in history if d["id"] == request_id]
    assert drill["result"] == "passed"
    assert drill["time_to_access"] > 0
    assert _cli(setup, "drill", "status").startswith("every break-glass account")


def test_a_reload_that_changes_the_policy_is_audited(setup: Setup) -> None:
    setup.idp.start()  # a new configuration is swapped in only once its issuers have keys
    config = yaml.safe_load(setup.config.read_text())
    config["breakglass"]["request_expiry"] = "20m"
    write_config(setup.config, config)
    assert setup.gateway.proc is not None
    setup.gateway.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    found: list[str] = []
    while time.monotonic() < deadline and not found:
        db = sqlite3.connect(setup.workdir / "glassgate.db")
        found = [
            row[0].decode() if isinstance(row[0], bytes) else row[0]
            for row in db.execute(
                "SELECT body FROM audit_records WHERE type = 'breakglass.policy.changed'"
            )
        ]
        db.close()
        time.sleep(0.2)
    setup.idp.stop()
    (body,) = found
    assert json.loads(body)["details"]["changed"] == ["breakglass.request_expiry"]
    assert "configuration reloaded" in setup.gateway.log.read_text()


def test_activation_refused_when_no_alert_sink_accepts(setup: Setup) -> None:
    world = setup.world
    if "ops" not in world.devices:
        _enrol_all(setup)
    setup.hooks.close()  # the only alert sink is down now
    with pytest.raises(AlertDeliveryError):
        _activate(setup)
