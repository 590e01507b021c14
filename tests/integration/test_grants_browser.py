"""The grant flow in headless Chromium, signed in through the real IdP (issue 13).

alice signs in to the console through oidc-provider (code flow, PKCE) and
requests ``admins-jit`` for a few seconds; bob and carol, each in their own
browser context (own cookies), sign in the same way and approve. alice's next
API call through glassgate (a real access token from the same IdP, same
``sub``) reaches ``/admin/*``, which it could not before; when the grant
ends it is 403 again. The grant actions are the console's JSON API, called
from the signed-in page with its CSRF token, as the console's own script does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.browser import Chromium, Person
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import write_config
from tests.support.grants import grants_config, person
from tests.support.idp import OidcProvider
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

ACCOUNTS = {
    "alice": {"groups": ["Engineers"]},
    "bob": {"groups": ["Admins"]},
    "carol": {"groups": ["Admins"]},
}
FETCH = """async ([method, path, body]) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const init = {method, headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}};
  if (body !== null) init.body = JSON.stringify(body);
  const answer = await fetch(path, init);
  return [answer.status, await answer.text()];
}"""


@dataclass
class Setup:
    gateway: GatewayProcess
    origin: str
    idp: OidcProvider


@pytest.fixture(scope="module")
def setup(upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("grants-browser")
    port = free_port()
    origin = f"http://localhost:{port}"  # a secure context: Secure cookies over plain HTTP
    accounts = workdir / "accounts.json"
    accounts.write_text(json.dumps(ACCOUNTS))
    (workdir / "idp").mkdir()
    redirect = f"{origin}/sign-in/idp/callback"
    idp = OidcProvider(
        workdir / "idp", args=("--console-redirect", redirect, "--accounts", str(accounts))
    )
    idp.start()
    config = grants_config(
        [idp.issuer], upstream.url, workdir, f"127.0.0.1:{port}", "http://127.0.0.1:9"
    )
    config["console"]["oidc"] = {"issuer": "idp", "client_id": "console",
                                 "client_secret": "console-secret", "redirect_uri": redirect}  # fmt: skip
    path = workdir / "gateway.yaml"
    write_config(path, config)
    gateway = GatewayProcess(path, {}, workdir / "gateway.log")
    gateway.start()
    try:
        yield Setup(gateway, origin, idp)
    finally:
        gateway.stop()
        idp.stop()


def _sign_in(who: Person, origin: str, login: str) -> None:
    page = who.page
    page.goto(f"{origin}/sign-in/idp")
    page.fill('input[name="login"]', login)
    page.fill('input[name="password"]', "any")
    page.click('button[type="submit"]')
    page.wait_for_selector('button:has-text("Continue")')
    page.click('button:has-text("Continue")')
    page.wait_for_url(f"{origin}/sign-in/idp/callback*")
    assert f"Signed in as {login}" in page.content()


def _api(who: Person, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, text = who.page.evaluate(FETCH, [method, path, body])
    return status, json.loads(text)


def _admin_call(setup: Setup) -> int:
    token = setup.idp.token(claims=person("alice", "Engineers"))
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(setup.gateway.url + "/admin/x", headers=headers, timeout=15).status_code


def test_the_grants_page_requests_and_shows(setup: Setup, people: Chromium) -> None:
    dave = people.person("alice")
    _sign_in(dave, setup.origin, "alice")
    page = dave.page
    page.goto(f"{setup.origin}/grants")
    page.select_option("#f-type", "admins-jit")
    page.fill("#f-reason", "INC-8 look at the logs")
    page.fill("#f-minutes", "5")
    page.click('button:has-text("Request")')
    page.wait_for_url(f"{setup.origin}/grants")
    assert "pending" in page.locator("#my-grants").inner_text().lower()
    page.fill("#f-reason", "too long")
    page.fill("#f-minutes", "600")  # above the type's hour
    page.click('button:has-text("Request")')
    assert "at most 3600s" in page.locator(".error").inner_text()
    page.locator("#my-grants button", has_text="Withdraw").first.click()
    page.wait_for_url(f"{setup.origin}/grants")
    assert "cancelled" in page.locator("#my-grants").inner_text().lower()


def test_sign_in_request_approve_use_and_expire(setup: Setup, people: Chromium) -> None:
    alice, bob, carol = (people.person(name) for name in ("alice", "bob", "carol"))
    for who in (alice, bob, carol):
        _sign_in(who, setup.origin, who.name)
    assert _admin_call(setup) == 403

    body = {"type": "admins-jit", "reason": "INC-7 hotfix", "duration": 12}
    status, grant = _api(alice, "POST", "/api/grants", body)  # the API: seconds, for the test
    assert status == 201, grant
    status, queue = _api(bob, "GET", "/api/grants/queue")
    assert [g["id"] for g in queue["grants"]] == [grant["id"]]
    status, refused = _api(alice, "POST", f"/api/grants/{grant['id']}/approve", {})
    assert status == 403, refused
    for approver in (bob, carol):  # the console's queue page, one click each
        approver.page.goto(f"{setup.origin}/grants")
        approver.page.locator(f"#q-{grant['id']} button", has_text="Approve").click()
        approver.page.wait_for_url(f"{setup.origin}/grants")
    status, active = _api(alice, "GET", f"/api/grants/{grant['id']}")
    assert active["state"] == "active", active

    assert _admin_call(setup) == 200  # the grant counts at the gate
    eventually(lambda: _admin_call(setup) == 403, what="the grant to end", timeout=30)
    status, mine = _api(alice, "GET", f"/api/grants/{grant['id']}")
    assert mine["state"] == "ended"
