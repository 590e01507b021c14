"""Console sign-in through the real IdP (oidc-provider), and its attacks (issue 13).

The code flow with PKCE, state and nonce against a real provider: a good sign-in
gives a ``Secure; HttpOnly; SameSite=Lax`` session that the grants API accepts
(with the CSRF token for writes); sign-out ends it. Refused: a missing or
unknown state, a state started by another browser, a replayed callback, a
replayed code under a fresh state, a code issued to another client. (ID-token
forgeries, nonce and ``alg`` confusion: ``tests/unit/tokens/test_id_tokens.py``,
since a real IdP does not sign broken tokens.) With the IdP down, the IdP
sign-in answers 503 and the rest of the console keeps working.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import write_config
from tests.support.grants import cli, grants_config
from tests.support.idp import OidcProvider
from tests.support.idp_login import Browser, idp_authorize

pytestmark = pytest.mark.integration

ACCOUNTS = {"alice": {"groups": ["Engineers"]}, "bob": {"groups": ["Admins"]}}


@dataclass
class Setup:
    gateway: GatewayProcess
    config: Path
    console: str
    idp: OidcProvider
    redirect: str


@pytest.fixture(scope="module")
def setup(upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("idp-sign-in")
    console = f"127.0.0.1:{free_port()}"
    redirect = f"http://{console}/sign-in/idp/callback"
    accounts = workdir / "accounts.json"
    accounts.write_text(json.dumps(ACCOUNTS))
    idp = OidcProvider(
        workdir / "idp", args=("--console-redirect", redirect, "--accounts", str(accounts))
    )
    (workdir / "idp").mkdir()
    idp.start()
    config = grants_config([idp.issuer], upstream.url, workdir, console, "http://127.0.0.1:9")
    oidc = {"issuer": "idp", "client_id": "console", "client_secret": "console-secret",
            "redirect_uri": redirect}  # fmt: skip
    config["console"]["oidc"] = oidc
    path = workdir / "gateway.yaml"
    write_config(path, config)
    gateway = GatewayProcess(path, {}, workdir / "gateway.log")
    gateway.start()
    try:
        yield Setup(gateway, path, console, idp, redirect)
    finally:
        gateway.stop()
        idp.stop()


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def test_sign_in_request_a_grant_and_sign_out(setup: Setup) -> None:
    browser = Browser(setup.console)
    authorize = _params(browser.begin())
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["client_id"] == "console"
    assert len(authorize["state"]) >= 32
    assert len(authorize["nonce"]) >= 32
    signed = browser.get(idp_authorize(browser.begin(), "alice"))
    assert signed.status_code == 200, signed.text
    assert "Signed in as alice" in signed.text
    cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("gg_idp="))
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie

    assert browser.get("/api/grants").status_code == 200
    without_csrf = browser.post("/api/grants", {"type": "admins-jit", "reason": "r",
                                                "duration": 60}, csrf=False)  # fmt: skip
    assert without_csrf.status_code == 403
    browser.get("/api/health")  # the CSRF cookie
    filed = browser.post("/api/grants", {"type": "admins-jit", "reason": "r", "duration": 60})
    assert filed.status_code == 201, filed.text
    assert filed.json()["subject"] == "alice"

    audit = cli(setup.config, "audit", "export")
    types = [json.loads(line)["type"] for line in audit.stdout.splitlines()]
    assert "console.idp.signed-in" in types

    browser.post("/sign-out/idp", {})
    assert browser.get("/api/grants").status_code == 401


def _callback(setup: Setup, browser: Browser, query: dict[str, str]) -> httpx.Response:
    return browser.get(f"{setup.redirect}?{urllib.parse.urlencode(query)}")


def test_missing_unknown_or_foreign_state_is_refused(setup: Setup) -> None:
    browser = Browser(setup.console)
    callback = _params(idp_authorize(browser.begin(), "alice"))
    assert _callback(setup, browser, {"code": callback["code"]}).status_code == 400
    unknown = {"code": callback["code"], "state": secrets.token_urlsafe(32)}
    assert _callback(setup, browser, unknown).status_code == 400
    other_browser = Browser(setup.console)  # login CSRF: the victim never started this
    assert _callback(setup, other_browser, callback).status_code == 400


def test_a_replayed_callback_or_code_is_refused(setup: Setup) -> None:
    browser = Browser(setup.console)
    url = idp_authorize(browser.begin(), "alice")
    assert browser.get(url).status_code == 200
    assert browser.get(url).status_code == 400  # the same state and code again
    code = _params(url)["code"]
    fresh = _params(browser.begin())  # a new state for this browser, the old code
    replay = _callback(setup, browser, {"state": fresh["state"], "code": code})
    assert replay.status_code == 400


def test_a_code_issued_to_another_client_is_refused(setup: Setup) -> None:
    browser = Browser(setup.console)
    ours = _params(browser.begin())
    query = {"client_id": "console-other", "response_type": "code", "scope": "openid",
             "redirect_uri": setup.redirect, "state": "x", "nonce": ours["nonce"],
             "code_challenge": ours["code_challenge"], "code_challenge_method": "S256"}  # fmt: skip
    foreign = idp_authorize(f"{setup.idp.issuer}/auth?{urllib.parse.urlencode(query)}", "alice")
    injected = {"state": ours["state"], "code": _params(foreign)["code"]}
    assert _callback(setup, browser, injected).status_code == 400


def test_with_the_idp_down_its_sign_in_answers_503_and_the_console_serves(setup: Setup) -> None:
    setup.idp.stop()
    try:
        down = Browser(setup.console).get("/sign-in/idp")
        assert down.status_code in (303, 503)  # discovery may already be cached
        assert Browser(setup.console).get("/api/health").status_code == 200
        assert Browser(setup.console).get("/api/openapi.json").status_code == 200
    finally:
        setup.idp.start()
