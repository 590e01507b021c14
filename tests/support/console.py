"""The console on a real listener, and an API client that behaves like a careful tool.

``serving(app)`` runs a console app on uvicorn on a free loopback port in the
test's own event loop (as ``glassgate serve`` runs it) and yields its base URL.

``ConsoleClient`` is what an API tool does against the console: it fetches the
CSRF cookie with a GET first and echoes it in ``X-CSRFToken`` (the cookie is
``Secure``, which httpx, like a browser, will not send back over plain HTTP to
127.0.0.1, so the client carries it by hand); once signed in with
``session: "bearer"`` it sends ``Authorization: Bearer`` instead. ``source``
makes it connect from another loopback address (127.0.0.9: a client outside
the allow-list).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from glassgate.app.server import Listener, bind_socket, server_config
from glassgate.types import ASGIApp

__all__ = ["ConsoleClient", "serving"]


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    listener = Listener(
        server_config(app, lifespan="off", log_level="warning"), bind_socket("127.0.0.1", 0)
    )
    with listener.sock:
        listener.config.load()
        listener.lifespan = listener.config.lifespan_class(listener.config)
        await listener.startup(sockets=[listener.sock])
        try:
            yield f"http://127.0.0.1:{listener.sock.getsockname()[1]}"
        finally:
            await listener.shutdown(sockets=[listener.sock])


class ConsoleClient:
    def __init__(self, base: str, *, source: str | None = None) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=source) if source else None
        self.http = httpx.AsyncClient(base_url=base, trust_env=False, transport=transport)
        self.csrf: str | None = None
        self.bearer: str | None = None
        self.cookies: dict[str, str] = {}  # what a browser would hold (Secure ones too)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def _headers(self, unsafe: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.bearer is not None:
            headers["authorization"] = f"Bearer {self.bearer}"
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if unsafe and self.csrf is not None:
            headers["x-csrftoken"] = self.csrf
        return headers

    async def get(self, path: str) -> httpx.Response:
        response = await self.http.get(path, headers=self._headers(False))
        self._keep(response)
        self.csrf = self.cookies.get("gg_csrf", self.csrf)
        return response

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        if self.csrf is None and self.bearer is None:
            await self.get("/api/openapi.json")  # any GET hands out the CSRF cookie
        response = await self.http.post(path, json=body or {}, headers=self._headers(True))
        self._keep(response)
        return response

    async def form(self, path: str, fields: dict[str, str]) -> httpx.Response:
        """A plain HTML form post (the page's own CSRF field), as the browser sends it."""
        data = {**fields, "csrftoken": self.csrf or ""}
        response = await self.http.post(path, data=data, headers=self._headers(False))
        self._keep(response)
        return response
