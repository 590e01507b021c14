"""API key administration (SPEC C4): create, list and revoke, every change audited first.

The order is fixed: build (pure, ``tokens.api_keys``) → audit → save. The
privileged record (``admin.apikey.create`` / ``admin.apikey.revoke``) is
written durably with ``await audit.append`` *before* the store changes; if it
cannot be written, ``AuditUnavailableError`` propagates and nothing changes.
If the store fails after that, the log over-reports an action that did not
happen, never the reverse.

Records carry the key id (as ``jti``), the SHA-256 fingerprint of the whole
key (``token_hash``, the same fingerprint decision records keep for requests
made with it) and what the key grants; never the key or its secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.audit.records import AuditEvent, format_ts
from glassgate.config.schema import Config
from glassgate.core.principal import token_fingerprint
from glassgate.errors import ConfigError, Problem, StorageUnavailableError
from glassgate.ports import ApiKeyStore, AuditAppender
from glassgate.store_runner import StoreRunner
from glassgate.tokens.api_keys import ApiKeyRecord, IssuedKey, issue_api_key
from glassgate.types import Clock, JSONValue

__all__ = ["ApiKeyAdmin", "NewApiKey", "Revocation", "check_new_key", "new_key_warnings"]

CREATE_EVENT = "admin.apikey.create"
REVOKE_EVENT = "admin.apikey.revoke"
_ID_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """What an operator asks for; ``routes`` None means every route (no scope)."""

    name: str
    subject: str
    groups: tuple[str, ...] = ()
    routes: tuple[str, ...] | None = None
    quota_tier: str | None = None
    lifetime: float | None = None  # seconds; None: never expires


def check_new_key(config: Config, request: NewApiKey) -> None:
    """The request's route ids and tier must exist in ``config``; every problem is reported.

    ``ConfigError`` (locations ``routes`` and ``quota_tier``, the request's own
    fields) lists them all; the CLI and the console both call this before ``create``.
    """
    known_routes = {route.id for route in config.routes}
    problems = [
        Problem(
            "routes",
            f"no route with id '{route}' in the config",
            f"known routes: {', '.join(sorted(known_routes)) or 'none'}",
        )
        for route in request.routes or ()
        if route not in known_routes
    ]
    tier = request.quota_tier
    if tier is not None and tier not in config.quotas.tiers:
        known = ", ".join(sorted(config.quotas.tiers)) or "none"
        problems.append(Problem("quota_tier", f"no quota tier '{tier}'", f"known tiers: {known}"))
    if problems:
        raise ConfigError(problems)


def new_key_warnings(config: Config, request: NewApiKey) -> list[str]:
    """What makes the key less useful than asked, in ``config``: worth saying, not refusing."""
    found = []
    if not config.api_keys.enabled:
        found.append("api_keys.enabled is false in this config: gateways refuse every key")
    for route in config.routes:
        if route.issuers and (request.routes is None or route.id in request.routes):
            found.append(
                f"route '{route.id}' accepts only issuers {', '.join(route.issuers)}: "
                "API keys are refused there (issuer-denied)"
            )
    return found


@dataclass(frozen=True, slots=True)
class Revocation:
    record: ApiKeyRecord
    changed: bool  # False: it was already revoked, and nothing was written


class ApiKeyAdmin:
    """Create, list and revoke keys in ``store``, auditing each change in ``audit`` first.

    Store calls go through ``runner``; whoever builds the admin owns (and closes) it.
    """

    def __init__(
        self, store: ApiKeyStore, audit: AuditAppender, clock: Clock, runner: StoreRunner
    ) -> None:
        self._runner = runner  # every store call: blocking, so off the event loop
        self._store = store
        self._audit = audit
        self._clock = clock

    async def create(self, request: NewApiKey, actor: str) -> IssuedKey:
        """A new key; its plaintext is in the result only. ``ValueError`` for bad fields."""
        now = self._clock()
        issued = await self._issue(request, actor, now)
        record = issued.record
        await self._audit.append(
            AuditEvent(
                type=CREATE_EVENT,
                outcome="ok",
                at=now,
                subject=record.subject,
                actor=actor,
                token_hash=token_fingerprint(issued.key.reveal()),
                jti=record.key_id,
                details=_grants(record),
            )
        )
        if not await self._runner.run(self._store.add, record):
            raise StorageUnavailableError(
                f"API key id {record.key_id} was taken between the check and the write; "
                "nothing was created, run the command again"
            )
        return issued

    async def _issue(self, request: NewApiKey, actor: str, now: float) -> IssuedKey:
        """A key whose id is free (60 random bits: a retry is all but impossible)."""
        for _ in range(_ID_ATTEMPTS):
            issued = issue_api_key(
                name=request.name,
                subject=request.subject,
                now=now,
                groups=request.groups,
                routes=request.routes,
                quota_tier=request.quota_tier,
                expires_at=None if request.lifetime is None else now + request.lifetime,
                created_by=actor,
            )
            if await self._runner.run(self._store.get, issued.record.key_id) is None:
                return issued
        raise StorageUnavailableError("no free API key id after several attempts; retry")

    async def revoke(self, key_id: str, actor: str) -> Revocation | None:
        """Revoke ``key_id`` (None if there is no such key); revoking twice writes nothing."""
        record = await self._runner.run(self._store.get, key_id)
        if record is None:
            return None
        if record.revoked_at is not None:
            return Revocation(record, changed=False)
        now = self._clock()
        await self._audit.append(
            AuditEvent(
                type=REVOKE_EVENT,
                outcome="ok",
                at=now,
                subject=record.subject,
                actor=actor,
                jti=record.key_id,
                details={"key_id": record.key_id, "name": record.name},
            )
        )
        revoked = await self._runner.run(self._store.revoke, key_id, now, actor)
        if revoked is None:  # deleted by hand in between: it is refused either way
            return Revocation(record, changed=False)
        return Revocation(revoked, changed=True)

    async def records(self) -> list[ApiKeyRecord]:
        return await self._runner.run(self._store.records)


def _grants(record: ApiKeyRecord) -> dict[str, JSONValue]:
    return {
        "key_id": record.key_id,
        "name": record.name,
        "groups": sorted(record.groups),
        "routes": None if record.routes is None else sorted(record.routes),
        "quota_tier": record.quota_tier,
        "expires_at": None if record.expires_at is None else format_ts(record.expires_at),
    }
