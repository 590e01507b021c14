"""The console app through a real listener (uvicorn on a socket, as ``glassgate serve`` runs it).

Every answer carries the security headers, errors included; ``/api/health``
follows readiness; ``/api/openapi.json`` is a valid OpenAPI 3.1 document of
exactly the operations served; request bodies are JSON, bounded and
validated without echoing what was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from glassgate.types import ASGIApp
from glassgate.web import ConsoleServices, create_console_app
from glassgate.web.answers import MESSAGES
from glassgate.web.api import MAX_BODY_BYTES, Operation, Reply, starlette_routes
from glassgate.web.openapi import openapi_document
from glassgate.web.security import SECURITY_HEADERS, SecurityHeaders
from tests.support.console import serving

SECURITY = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}


class Flag:
    """A ``ports.Readiness`` the test flips; ``broken`` makes reading it fail."""

    def __init__(self) -> None:
        self.value = False
        self.broken = False

    @property
    def ready(self) -> bool:
        if self.broken:
            raise RuntimeError("readiness unavailable")
        return self.value


@contextlib.asynccontextmanager
async def listening(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as base, httpx.AsyncClient(base_url=base, trust_env=False) as client:
        yield client


def run(app: ASGIApp, body: Callable[[httpx.AsyncClient], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with listening(app) as client:
            await body(client)

    asyncio.run(main())


def _secured(response: httpx.Response, *, cached: bool = False) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get_list(name) == [value], name
    if not cached:
        assert response.headers.get_list("cache-control") == ["no-store"]


def test_health_follows_readiness_with_security_headers() -> None:
    flag = Flag()

    async def body(client: httpx.AsyncClient) -> None:
        starting = await client.get("/api/health")
        assert starting.status_code == 503
        assert starting.json() == {"status": "starting"}
        _secured(starting)
        flag.value = True
        ready = await client.get("/api/health")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok"}
        assert ready.headers["content-type"] == "application/json"
        _secured(ready)

    run(create_console_app(ConsoleServices(readiness=flag)), body)


def test_openapi_document_is_valid_3_1_and_describes_what_is_served() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        response = await client.get("/api/openapi.json")
        assert response.status_code == 200
        _secured(response)
        document = response.json()
        validate(document)  # the OpenAPI 3.1 specification's own schema
        assert document["openapi"] == "3.1.0"
        assert set(document["paths"]) == {"/api/health", "/api/openapi.json"}
        health = document["paths"]["/api/health"]["get"]
        assert set(health["responses"]) == {"200", "503"}
        ref = health["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert schema["properties"]["status"]["enum"] == ["ok", "starting"]

    run(create_console_app(ConsoleServices(readiness=Flag())), body)


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        pytest.param("GET", "/api/nothing", 404, "not_found", id="case=unknown-api-path"),
        pytest.param("POST", "/api/health", 405, "method_not_allowed", id="case=wrong-method"),
    ],
)
def test_api_errors_are_json_with_the_security_headers(
    method: str, path: str, status: int, error: str
) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        # JSON, and a bearer header so the CSRF check lets it through to the router
        headers = {"authorization": "Bearer x"}
        response = await client.request(method, path, json={}, headers=headers)
        assert response.status_code == status
        assert response.json() == {"error": error, "message": MESSAGES[error], "problems": []}
        _secured(response)

    run(create_console_app(ConsoleServices(readiness=Flag())), body)


def test_errors_outside_the_api_are_pages_with_the_security_headers() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")  # the data plane's, never the console's
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>Not found</h1>" in response.text
        _secured(response)

    run(create_console_app(ConsoleServices(readiness=Flag())), body)


def test_a_failing_service_is_a_bare_500_with_the_headers() -> None:
    flag = Flag()
    flag.broken = True

    async def body(client: httpx.AsyncClient) -> None:
        response = await client.get("/api/health")
        assert response.status_code == 500
        assert response.json() == {
            "error": "internal_error",
            "message": MESSAGES["internal_error"],
            "problems": [],
        }
        assert "readiness unavailable" not in response.text
        _secured(response)

    run(create_console_app(ConsoleServices(readiness=flag)), body)


# --- the registry machinery, with operations of the test's own -----------------------------


class NewThing(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    count: int = Field(ge=0)


class Thing(BaseModel):
    name: str
    count: int


async def create(request: Request, body: BaseModel | None) -> Reply:
    assert isinstance(body, NewThing)
    if body.name == "wrong-model":
        return Reply(201, NewThing(name="x", count=1))  # not what the operation declares
    return Reply(201, Thing(name=body.name, count=body.count))


THINGS = [
    Operation("create", "POST", "/api/things", "Make a thing", {201: Thing}, create, NewThing)
]


def _registry_app(operations: Sequence[Operation]) -> ASGIApp:
    return SecurityHeaders(Starlette(routes=starlette_routes(operations)))


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        pytest.param(
            b'{"name":"a","count":2}', {"content-type": "application/json"}, 201, id="case=ok"
        ),
        pytest.param(
            b'{"name":"a","count":2}', {"content-type": "text/plain"}, 415, id="case=not-json"
        ),
        pytest.param(b"{", {"content-type": "application/json"}, 422, id="case=broken-json"),
        pytest.param(
            b"x" * (MAX_BODY_BYTES + 1),
            {"content-type": "application/json"},
            413,
            id="case=too-large",
        ),
    ],
)
def test_request_bodies(content: bytes, headers: dict[str, str], status: int) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/things", content=content, headers=headers)
        assert response.status_code == status
        _secured(response)

    run(_registry_app(THINGS), body)


def test_an_invalid_body_lists_every_problem_and_never_echoes_the_input() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        sent = {"name": "<script>secret-value</script>-too-long", "count": -1}
        response = await client.post("/api/things", json=sent)
        assert response.status_code == 422
        answer = response.json()
        assert answer["error"] == "invalid_request"
        assert [p["location"] for p in answer["problems"]] == ["name", "count"]
        assert "secret-value" not in response.text

    run(_registry_app(THINGS), body)


def test_a_reply_the_operation_does_not_declare_is_never_sent() -> None:
    async def body(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/things", json={"name": "wrong-model", "count": 1})
        assert response.status_code == 500
        assert "wrong-model" not in response.text

    app = SecurityHeaders(
        Starlette(routes=starlette_routes(THINGS), exception_handlers={Exception: _bare_500})
    )
    run(app, body)


async def _bare_500(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("error", 500)


def test_request_models_appear_in_the_document() -> None:
    document = openapi_document(THINGS, title="t", version="1")
    validate(document)
    operation = document["paths"]["/api/things"]["post"]
    assert operation["requestBody"]["required"] is True
    assert set(document["components"]["schemas"]) == {"NewThing", "Thing", "ErrorBody", "Problem"}
    refusals = {"403", "413", "415", "422"}  # CSRF and the body's checks
    assert set(operation["responses"]) == {"201", *refusals}


@pytest.mark.parametrize(
    ("path", "responses"),
    [
        pytest.param("/things", {200: Thing}, id="case=outside-api"),
        pytest.param("/api/things", {}, id="case=no-responses"),
    ],
)
def test_operations_are_checked_when_declared(
    path: str, responses: dict[int, type[BaseModel]]
) -> None:
    with pytest.raises(ValueError, match="operation bad"):
        Operation("bad", "GET", path, "bad", responses, create)


def test_headers_the_app_set_are_replaced_not_repeated() -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-content-type-options", b"sniff-away"), (b"cache-control", b"max-age=60")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    async def body(client: httpx.AsyncClient) -> None:
        _secured(await client.get("/api/x"))
        _secured(await client.get("/page"))  # pages carry tokens: never stored either
        static = await client.get("/static/console.css")
        _secured(static, cached=True)
        assert static.headers.get_list("cache-control") == ["max-age=60"]  # static keeps its own

    run(SecurityHeaders(inner), body)
