"""The break-glass pages without a browser: redirects, plain forms, refusals as pages.

What a person sees in Chromium is ``tests/integration/test_console_browser.py``;
here each page's answer is checked on the wire, hostile form bodies included.
"""

from __future__ import annotations

import pytest

from glassgate.workflows.identities import IdentityKind
from tests.support.console import ConsoleClient
from tests.unit.web.test_breakglass_api import World, run


async def _browser_like(world: World, name: str) -> ConsoleClient:
    """Signed in with a cookie, as a browser is (not a bearer token)."""
    client, response = await world.sign_in(name)
    assert response.status_code == 200
    token = client.bearer
    client.bearer = None
    client.cookies["gg_console"] = str(token)
    return client


def test_pages_that_need_a_person_send_anyone_else_to_sign_in() -> None:
    async def scenario(world: World) -> None:
        anonymous = world.client()
        for path in ("/", "/requests/new", "/drill", "/approvals", "/sessions/S-1"):
            answer = await anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/sign-in"
        sign_in = await anonymous.get("/sign-in")
        assert sign_in.status_code == 200
        assert 'data-ceremony="get"' in sign_in.text
        assert "gg_csrf" in anonymous.cookies
        link = await anonymous.get("/reset/some-token")
        assert "Reset your password and key" in link.text
        assert 'value="some-token"' in link.text

    run(scenario)


def test_a_request_filed_through_the_form_and_withdrawn() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        ops = await _browser_like(world, "ops")
        home = await ops.get("/")
        assert "No request yet." in home.text
        filed = await ops.form("/requests/new", {"reason": "IdP down", "incident_ref": "INC-5"})
        assert (filed.status_code, filed.headers["location"]) == (303, "/")
        home = await ops.get("/")
        assert "IdP down" in home.text
        assert "waiting, expires" in home.text
        assert '<meta http-equiv="refresh" content="20">' in home.text  # approvals appear
        (request,) = (await ops.get("/api/requests")).json()["requests"]  # the same cookie
        request_id = request["id"]
        assert f"/requests/{request_id}/withdraw" in home.text
        withdrawn = await ops.form(f"/requests/{request_id}/withdraw", {})
        assert withdrawn.status_code == 303
        again = await ops.form(f"/requests/{request_id}/withdraw", {})
        assert again.status_code == 409
        assert "text/html" in again.headers["content-type"]

    run(scenario)


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        pytest.param(
            {"reason": "", "incident_ref": "I"}, 400, "Give a reason", id="case=no-reason"
        ),
        pytest.param(
            {"reason": "x" * 501, "incident_ref": "I"}, 400, "Give a reason", id="case=long"
        ),
        pytest.param({f"f{i}": "v" for i in range(40)}, 400, "at most 16 fields", id="case=flood"),
        pytest.param(
            {"reason": "r", "admin": "yes"}, 400, "Give a reason", id="case=unknown-field"
        ),
    ],
)
def test_hostile_forms_get_a_page_that_says_why(
    fields: dict[str, str], status: int, says: str
) -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        ops = await _browser_like(world, "ops")
        answer = await ops.form("/requests/new", fields)
        assert answer.status_code == status
        assert says in answer.text
        assert "<script>" not in answer.text

    run(scenario)


def test_a_form_without_its_token_is_a_403_page() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        ops = await _browser_like(world, "ops")
        ops.csrf = "forged"
        answer = await ops.form("/requests/new", {"reason": "r", "incident_ref": "I"})
        assert answer.status_code == 403
        assert "This form expired or did not come from the console" in answer.text

    run(scenario)


def test_sign_out_ends_the_console_session_and_clears_the_cookie() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        ops = await _browser_like(world, "ops")
        token = ops.cookies["gg_console"]
        out = await ops.form("/sign-out", {})
        assert out.headers["location"] == "/sign-in"
        assert "gg_console=; Max-Age=0" in out.headers["set-cookie"]
        ops.cookies["gg_console"] = token
        assert (await ops.get("/")).status_code == 303
        assert (await ops.form("/sign-out", {})).status_code == 303

    run(scenario)
