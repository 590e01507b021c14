"""Just-in-time grants through a real ``glassgate serve`` with real IdP tokens (issue 13).

The API-only flow: request, approve, use, revoke through ``/api/grants`` on the
console, every caller presenting a real oidc-provider access token, with each
refusal the issue lists asserted: self-approval, the same approver twice, an
approver without the required strength or with a stale ``auth_time`` (RFC 9470
challenge), an expired request, a token from another issuer with the same
``sub``, a group the type does not grant, a duration above the maximum. The
CLI (``glassgate grants ...``) and the audit and alert records too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import write_config
from tests.support.grants import Api, cli, grants_config, jwt_claims, person
from tests.support.idp import OidcProvider
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@dataclass
class Setup:
    gateway: GatewayProcess
    config: Path
    console: str
    idp: OidcProvider
    idp2: OidcProvider
    hooks: EchoUpstream
    upstream: EchoUpstream

    def api(self, sub: str | None, *groups: str, idp: OidcProvider | None = None,
            **claims: Any) -> Api:  # fmt: skip
        if sub is None:
            return Api(self.console, None)
        token = (idp or self.idp).token(claims=person(sub, *groups, **claims))
        return Api(self.console, token)

    def call(self, path: str, sub: str, *groups: str, idp: OidcProvider | None = None
             ) -> httpx.Response:  # fmt: skip
        token = (idp or self.idp).token(claims=person(sub, *groups))
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(self.gateway.url + path, headers=headers, timeout=15)


@pytest.fixture(scope="module")
def setup(
    oidc_provider: OidcProvider, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("grants")
    console = f"127.0.0.1:{free_port()}"
    hooks = EchoUpstream()
    idp2 = OidcProvider(tmp_path_factory.mktemp("idp2"))
    idp2.start()
    path = workdir / "gateway.yaml"
    config = grants_config([oidc_provider.issuer, idp2.issuer], upstream.url, workdir, console,
                           hooks.url)  # fmt: skip
    write_config(path, config)
    gateway = GatewayProcess(path, {}, workdir / "gateway.log")
    gateway.start()
    try:
        yield Setup(gateway, path, console, oidc_provider, idp2, hooks, upstream)
    finally:
        gateway.stop()
        idp2.stop()
        hooks.close()


def _audit(setup: Setup) -> list[dict[str, Any]]:
    run = cli(setup.config, "audit", "export")
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def _alerts(setup: Setup) -> list[str]:
    return [json.loads(seen.body)["alert"]["kind"] for seen in setup.hooks.requests if seen.body]


def test_request_approve_use_and_revoke(setup: Setup) -> None:
    assert setup.call("/admin/x", "alice", "Engineers").status_code == 403
    alice = setup.api("alice", "Engineers")
    filed = alice.request("admins-jit")
    assert filed.status_code == 201, filed.text
    grant = filed.json()
    assert grant["state"] == "pending"
    assert grant["group"] == "Admins"
    eventually(lambda: "grant.requested" in _alerts(setup), what="the request alert")

    bob = setup.api("bob", "Admins")
    assert [g["id"] for g in bob.get("/queue").json()["grants"]] == [grant["id"]]
    assert alice.get("/queue").json()["grants"] == []

    own = setup.api("alice", "Engineers", "Admins").act(grant["id"], "approve")
    assert own.status_code == 403
    assert own.json()["error"] == "approval_refused"
    assert bob.act(grant["id"], "approve").json()["state"] == "pending"
    twice = setup.api("bob", "Admins").act(grant["id"], "approve")  # a new token, same person
    assert twice.status_code == 403
    assert "already approved" in twice.json()["message"]
    carol = setup.api("carol", "Security")
    done = carol.act(grant["id"], "approve")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "active"
    eventually(lambda: "grant.quorum-met" in _alerts(setup), what="the approval alert")

    setup.upstream.clear()
    used = setup.call("/admin/x", "alice", "Engineers")
    assert used.status_code == 200, used.text
    seen = setup.upstream.requests[-1]
    assert "Admins" in (seen.header("x-glassgate-groups") or "").split(",")
    identity = jwt_claims(seen.header("x-glassgate-identity") or "")
    assert "Admins" in identity["groups"]

    def decision_names_the_grant() -> bool:
        return any(
            r["type"] == "decision" and r["details"].get("grants") == [grant["id"]]
            for r in _audit(setup)
        )

    eventually(decision_names_the_grant, what="a decision record naming the grant")
    # the same sub from another issuer is another person: no grant, no group
    assert setup.call("/admin/x", "alice", "Engineers", idp=setup.idp2).status_code == 403
    impostor = setup.api("alice", "Engineers", idp=setup.idp2).act(grant["id"], "revoke")
    assert impostor.status_code == 403

    revoked = alice.act(grant["id"], "revoke")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert setup.call("/admin/x", "alice", "Engineers").status_code == 403  # at once, here

    types = [r["type"] for r in _audit(setup) if r["type"].startswith("grant.")]
    for kind in ("grant.requested", "grant.approved", "grant.quorum-met", "grant.revoked"):
        assert kind in types
    assert any(r["type"] == "grant.approve" and r["outcome"] == "refused" for r in _audit(setup))


def test_a_route_access_grant_opens_that_route_only(setup: Setup) -> None:
    assert setup.call("/reports/q3", "ivan", "Engineers").status_code == 403
    grant = setup.api("ivan", "Engineers").request("reports-access").json()
    assert grant["group"] == "grant:reports-access"
    done = setup.api("bob", "Admins").act(grant["id"], "approve")
    assert done.json()["state"] == "active"
    assert setup.call("/reports/q3", "ivan", "Engineers").status_code == 200
    seen = setup.upstream.requests[-1]
    assert "grant:reports-access" in (seen.header("x-glassgate-groups") or "")
    assert setup.call("/admin/x", "ivan", "Engineers").status_code == 403  # nothing else
    # a token claiming the grant's group is not believed
    forged = setup.call("/reports/q3", "judy", "Engineers", "grant:reports-access")
    assert forged.status_code == 403


def test_a_weak_or_stale_approver_is_asked_to_step_up(setup: Setup) -> None:
    grant = setup.api("dave", "Engineers").request("strong", 300).json()
    weak = setup.api("bob", "Admins", amr=["pwd"]).act(grant["id"], "approve")
    assert weak.status_code == 401
    challenge = weak.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert "acr_values=" in challenge
    stale = setup.api("bob", "Admins", amr=["pwd", "mfa"], auth_time=int(time.time()) - 3600)
    old = stale.act(grant["id"], "approve")
    assert old.status_code == 401
    assert 'max_age="300"' in old.headers["www-authenticate"]
    fresh = setup.api("bob", "Admins", amr=["pwd", "mfa"]).act(grant["id"], "approve")
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["state"] == "active"


@pytest.mark.parametrize(
    ("groups", "body", "status", "error"),
    [
        pytest.param(("Engineers",), {"duration": 7200}, 400, "invalid_input", id="too-long"),
        pytest.param(("Engineers",), {"group": "Root"}, 403, "forbidden", id="other-group"),
        pytest.param(("Sales",), {}, 403, "forbidden", id="not-a-requester"),
        pytest.param(("Engineers",), {"kind": "nope"}, 404, "not_found", id="unknown-type"),
        pytest.param(("Engineers",), {"duration": -1}, 422, "invalid_request", id="negative"),
    ],
)
def test_bad_requests_are_refused(
    setup: Setup, groups: tuple[str, ...], body: dict[str, Any], status: int, error: str
) -> None:
    kind = body.pop("kind", "admins-jit")
    refused = setup.api("erin", *groups).request(kind, **body)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"] == error


def test_callers_without_a_valid_idp_token_are_refused(setup: Setup) -> None:
    missing = setup.api(None).get()
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    unsafe = setup.api(None).request("admins-jit")  # no bearer: a browser, so CSRF applies
    assert unsafe.status_code == 403
    assert unsafe.json()["error"] == "csrf_failed"
    forged = Api(setup.console, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")
    assert forged.request("admins-jit").status_code == 401
    assert forged.get().status_code == 401


def test_an_unapproved_request_expires(setup: Setup) -> None:
    grant = setup.api("frank", "Engineers").request("admins-jit").json()
    time.sleep(31)  # grants.request_ttl is 30 s
    late = setup.api("bob", "Admins").act(grant["id"], "approve")
    assert late.status_code == 410
    assert late.json()["error"] == "request_expired"


def test_operators_list_approve_and_revoke_with_the_cli(setup: Setup) -> None:
    grant = setup.api("gina", "Engineers").request("admins-jit").json()
    listed = cli(setup.config, "grants", "list", "--state", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    assert grant["id"] in [g["id"] for g in json.loads(listed.stdout)]
    first = cli(setup.config, "grants", "approve", grant["id"], "--group", "Admins", "--json")
    assert first.returncode == 0, first.stderr
    again = cli(setup.config, "grants", "approve", grant["id"], "--group", "Admins")
    assert again.returncode == 2  # the operator counts once
    assert "already approved" in again.stderr
    done = setup.api("hank", "Security").act(grant["id"], "approve")
    assert done.json()["state"] == "active"
    eventually(
        lambda: setup.call("/admin/x", "gina", "Engineers").status_code == 200,
        what="the CLI-approved grant to count at the gate",
    )
    shown = cli(setup.config, "grants", "show", grant["id"], "--json")
    assert json.loads(shown.stdout)["state"] == "active"
    revoked = cli(setup.config, "grants", "revoke", grant["id"])
    assert revoked.returncode == 0, revoked.stderr
    eventually(
        lambda: setup.call("/admin/x", "gina", "Engineers").status_code == 403,
        what="the gateway to drop the grant revoked by another process",
        timeout=20,
    )
    records = [r for r in _audit(setup) if r["details"].get("grant_id") == grant["id"]]
    actors = {(r["type"], r["actor"]) for r in records}
    assert any(t == "grant.revoked" and a.startswith("cli:") for t, a in actors)
