"""web.guard: unsafe requests carry JSON or a form, read whole before anyone parses them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from glassgate.types import Message, Receive, Scope, Send
from glassgate.web.guard import RequestGuard

Seen = list[tuple[str, bytes]]
LIMIT = 1024


def guarded(seen: Seen) -> RequestGuard:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append((scope["method"], body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return RequestGuard(app, LIMIT, refuse)


async def refuse(scope: Scope, send: Send, status: int, code: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": code.encode()})


async def call(app: RequestGuard, method: str, content_type: str | None, body: bytes) -> int:
    headers = {} if content_type is None else {"content-type": content_type}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
        response = await client.request(method, "/x", headers=headers, content=body)
    return response.status_code


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/x-www-form-urlencoded", "Application/JSON; charset=utf-8"],
)
def test_json_and_forms_pass_whole(content_type: str) -> None:
    seen: Seen = []
    assert asyncio.run(call(guarded(seen), "POST", content_type, b'{"a": 1}')) == 200
    assert seen == [("POST", b'{"a": 1}')]


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "multipart/form-data",  # no boundary: what made the CSRF library raise
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/jsonx",
        "application/json-patch+json",
        "text/html;application/json",
    ],
    ids=lambda c: f"case={c}",
)
def test_other_bodies_are_refused_unread(content_type: str | None) -> None:
    seen: Seen = []
    assert asyncio.run(call(guarded(seen), "POST", content_type, b"--x\r\n")) == 415
    assert seen == []


@pytest.mark.parametrize("size", [LIMIT + 1, 10 * LIMIT])
def test_a_body_over_the_limit_is_refused(size: int) -> None:
    seen: Seen = []
    assert asyncio.run(call(guarded(seen), "POST", "application/json", b"x" * size)) == 413
    assert seen == []


def test_a_body_over_the_limit_in_chunks_is_refused_while_read() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"x" * 600, "more_body": True},
        {"type": "http.request", "body": b"x" * 600, "more_body": True},
    ]
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("never reached")

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(RequestGuard(app, LIMIT, refuse)(_scope("application/json"), receive, send))
    assert sent[0]["status"] == 413
    assert messages == [], "read until the limit was passed, then stopped"


def test_safe_methods_pass_untouched() -> None:
    seen: Seen = []
    assert asyncio.run(call(guarded(seen), "GET", "text/plain", b"")) == 200
    assert seen == [("GET", b"")]


def test_a_body_in_many_chunks_arrives_as_one_message() -> None:
    chunks = [b"a=1", b"&b=2", b"&c=3"]
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(await receive())

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    asyncio.run(
        RequestGuard(app, LIMIT, refuse)(_scope("application/x-www-form-urlencoded"), receive, send)
    )
    assert received == [{"type": "http.request", "body": b"a=1&b=2&c=3", "more_body": False}]


def test_a_client_that_leaves_mid_body_gets_nothing_done() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"a=", "more_body": True},
        {"type": "http.disconnect"},
    ]
    called: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        called.append(message)

    asyncio.run(RequestGuard(app, LIMIT, refuse)(_scope("application/json"), receive, send))
    assert called == []


def _scope(content_type: str) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(b"content-type", content_type.encode())],
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_cookie_that_is_not_utf8_is_refused_before_anyone_parses_it(method: str) -> None:
    seen: Seen = []

    async def go() -> int:
        transport = httpx.ASGITransport(app=guarded(seen))
        async with httpx.AsyncClient(transport=transport, base_url="https://c.test") as client:
            headers = {"cookie": b"gg_csrf=\xff\xfe", "content-type": "application/json"}
            response = await client.request(method, "/x", headers=headers, content=b"{}")
            return response.status_code

    assert asyncio.run(go()) == 400
    assert seen == []
