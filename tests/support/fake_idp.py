"""An in-memory IdP for ``httpx.MockTransport``: discovery, JWKS and introspection.

Counts every request by path, can be "down" (connection refused), and lets a
test replace any answer.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.support import tokens as t

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeIdP:
    """``https://idp.example.test/oauth2/default`` as served by a mock transport."""

    def __init__(self, issuer: str = t.ISSUER, keys: tuple[str, ...] = ("rsa-1", "ec-1")) -> None:
        self.issuer = issuer
        self.keys = list(keys)
        self.down = False
        self.delay = 0.0
        self.requests: list[httpx.Request] = []
        self.hits: Counter[str] = Counter()
        self.overrides: dict[str, Handler] = {}
        self.introspection: dict[str, dict[str, Any]] = {}
        self.metadata_extra: dict[str, Any] = {}

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/v1/keys"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.issuer}/v1/introspect"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [t.public_jwk(name) for name in self.keys]}

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "introspection_endpoint": self.introspection_endpoint,
            **self.metadata_extra,
        }

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        self.hits[path] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        override = self.overrides.get(path)
        if override is not None:
            answer = override(request)
            return await answer if inspect.isawaitable(answer) else answer
        base = httpx.URL(self.issuer).path.rstrip("/")
        if path == base + "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.metadata())
        if path == base + "/v1/keys":
            return httpx.Response(200, json=self.jwks())
        if path == base + "/v1/introspect" and request.method == "POST":
            form = dict(httpx.QueryParams(request.content.decode()))
            answer = self.introspection.get(form.get("token", ""), {"active": False})
            return httpx.Response(200, content=json.dumps(answer).encode())
        return httpx.Response(404, json={"error": "not_found"})
