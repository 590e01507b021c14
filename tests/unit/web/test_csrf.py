"""web.csrf: asgi-csrf wired strictly: every unsafe request needs the token, cookie or not."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from glassgate.types import Receive, Scope, Send
from glassgate.web.csrf import CSRF_COOKIE, csrf_protected, csrf_token

BASE = "https://console.test"  # Secure cookies travel over https only (httpx, like browsers)


async def page(scope: Scope, receive: Receive, send: Send) -> None:
    token = csrf_token(scope).encode() if scope["method"] == "GET" else b"done"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": token})


async def refuse(scope: Scope, send: Send) -> None:
    await send({"type": "http.response.start", "status": 403, "headers": []})
    await send({"type": "http.response.body", "body": b"csrf_failed"})


def client(secret: str = "s" * 32) -> httpx.AsyncClient:
    app = csrf_protected(page, secret, refuse)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def _token(http: httpx.AsyncClient) -> str:
    response = await http.get("/")
    assert response.status_code == 200
    return response.text


def test_the_cookie_is_secure_strict_and_matches_the_page_token() -> None:
    async def go() -> None:
        async with client() as http:
            response = await http.get("/sign-in")
            cookie = response.headers["set-cookie"]
            assert cookie.startswith(f"{CSRF_COOKIE}={response.text};")
            assert "Secure" in cookie
            assert "SameSite=Strict" in cookie

    asyncio.run(go())


def test_a_form_or_a_header_with_the_token_passes() -> None:
    async def go() -> None:
        async with client() as http:
            token = await _token(http)
            form = await http.post("/x", data={"csrftoken": token, "a": "1"})
            assert (form.status_code, form.text) == (200, "done")
            api = await http.post("/x", json={"a": 1}, headers={"x-csrftoken": token})
            assert (api.status_code, api.text) == (200, "done")

    asyncio.run(go())


@pytest.mark.parametrize(
    "case", ["no-token", "forged-token", "no-cookie", "other-secret", "token-of-another-cookie"]
)
def test_without_the_right_token_it_is_refused(case: str) -> None:
    async def go() -> int:
        async with client() as http, client("t" * 32) as other:
            token = await _token(http)
            foreign = await _token(other)
            data = {
                "no-token": {"a": "1"},
                "forged-token": {"csrftoken": token[:-2] + "xx"},
                "no-cookie": {"csrftoken": token},
                "other-secret": {"csrftoken": foreign},
                "token-of-another-cookie": {"csrftoken": foreign},
            }[case]
            if case == "no-cookie":
                http.cookies.clear()
            if case == "other-secret":
                http.cookies.set(CSRF_COOKIE, foreign, domain="console.test")
            response = await http.post("/x", data=data)
            return response.status_code

    assert asyncio.run(go()) == 403


def test_a_bearer_request_needs_no_token() -> None:
    async def go() -> int:
        async with client() as http:
            response = await http.post("/x", json={}, headers={"authorization": "Bearer x"})
            return response.status_code

    assert asyncio.run(go()) == 200


def test_safe_methods_need_no_token() -> None:
    async def go() -> int:
        async with client() as http:
            return (await http.get("/x")).status_code

    assert asyncio.run(go()) == 200


def test_every_console_cookie_has_the_prefix_the_data_plane_strips() -> None:
    from glassgate.adapters.http.identity_out import OWN_COOKIE_PREFIX
    from glassgate.web.breakglass.caller import CONSOLE_COOKIE
    from glassgate.workflows.views import SESSION_COOKIE

    for name in (CSRF_COOKIE, CONSOLE_COOKIE, SESSION_COOKIE):
        assert name.encode().startswith(OWN_COOKIE_PREFIX), name
