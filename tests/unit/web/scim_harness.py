"""The SCIM app over a directory service with fakes, driven in process through httpx."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from glassgate.directory.guard import LockoutGuard, ProtectedGroup
from glassgate.web.scim import DirectoryScimStorage
from glassgate.web.scim_app import GlassgateScimService, ScimApp, scim_provider
from glassgate.workflows.directory import DirectoryService
from tests.unit.directory._fakes import DirectRunner, FakeStore, RecordingAlerts, RecordingAudit

TOKEN = "test-scim-token"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass
class Scim:
    store: FakeStore
    service: DirectoryService
    audit: RecordingAudit
    alerts: RecordingAlerts
    app: Any
    ids: itertools.count[int] = field(default_factory=itertools.count)

    async def call(
        self, method: str, url: str, body: Any = None, token: str | None = TOKEN
    ) -> httpx.Response:
        headers = {"Content-Type": "application/scim+json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app), base_url="http://console"
        ) as client:
            return await client.request(method, f"/scim/v2{url}", json=body, headers=headers)


async def scim(
    store: FakeStore | None = None,
    protected: tuple[ProtectedGroup, ...] = (ProtectedGroup("Admins", 2),),
) -> Scim:
    store = store or FakeStore()
    audit, alerts = RecordingAudit(store), RecordingAlerts()
    service = DirectoryService(
        store, DirectRunner(), LockoutGuard(protected), audit, alerts, lambda: 1_800_000_000.0
    )
    await service.refresh()
    provider = scim_provider()
    protocol = GlassgateScimService(provider, secret="s" * 32)
    counter = itertools.count(1)
    storage = DirectoryScimStorage(
        service, protocol, lambda: 1_800_000_000.0, new_id=lambda: f"id{next(counter)}"
    )

    async def authenticate(token: str) -> str | None:
        return "scim:okta" if token == TOKEN else None

    app = ScimApp(storage, provider, protocol, authenticate)

    async def mounted(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        await app({**scope, "root_path": "/scim"}, receive, send)

    return Scim(store, service, audit, alerts, mounted)


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]
