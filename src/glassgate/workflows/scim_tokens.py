"""SCIM bearer tokens: issued and rotated with an audit record first, stored as digests.

A SCIM token has the API keys' format and hash (``tokens.api_keys``:
``gg_<id>_<secret>``, SHA-256 of a 256-bit secret bound to its id, compared
in constant time) but lives in its own table: it opens ``/scim/v2`` and
nothing else, and an API key never opens ``/scim/v2``. The plaintext exists
once, in what ``issue`` returns. ``rotate`` issues a new token and revokes
every other in the same step, so an IdP's old token stops working at once.
"""

from __future__ import annotations

from collections.abc import Callable

from glassgate.audit.records import AuditEvent
from glassgate.errors import ApiKeyError, StorageUnavailableError
from glassgate.ports import AuditAppender, ScimTokenStore
from glassgate.store_runner import StoreRunner
from glassgate.tokens.api_keys import (
    ApiKeyRecord,
    IssuedKey,
    issue_api_key,
    parse_api_key,
    verify_api_key,
)

__all__ = ["ScimTokens"]

SUBJECT = "scim"
ISSUE_EVENT = "admin.scim.token.issue"
ROTATE_EVENT = "admin.scim.token.rotate"


class ScimTokens:
    def __init__(
        self,
        store: ScimTokenStore,
        runner: StoreRunner,
        audit: AuditAppender,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._runner = runner
        self._audit = audit
        self._clock = clock

    async def issue(self, name: str, actor: str, *, rotate: bool = False) -> IssuedKey:
        """A new token (``ValueError`` for a bad name); with ``rotate`` every other is revoked."""
        now = self._clock()
        issued = issue_api_key(name=name, subject=SUBJECT, now=now, created_by=actor)
        record = issued.record
        await self._audit.append(
            AuditEvent(
                type=ROTATE_EVENT if rotate else ISSUE_EVENT,
                outcome="ok",
                at=now,
                actor=actor,
                jti=record.key_id,
                details={"key_id": record.key_id, "name": record.name},
            )
        )
        if not await self._runner.run(self._store.add_scim_token, record):
            raise StorageUnavailableError(
                "a SCIM token id was taken; nothing was issued, run again"
            )
        if rotate:
            await self._runner.run(self._store.revoke_scim_tokens, now, actor, record.key_id)
        return issued

    async def records(self) -> list[ApiKeyRecord]:
        return await self._runner.run(self._store.scim_tokens)

    async def authenticate(self, raw: str) -> str | None:
        """``scim:<token name>`` for a live token, None for anything else."""
        try:
            parsed = parse_api_key(raw)
        except ApiKeyError:
            return None
        records = await self.records()
        record = next((r for r in records if r.key_id == parsed.key_id), None)
        try:
            verified = verify_api_key(parsed, record, self._clock(), raw)
        except ApiKeyError:
            return None
        return f"scim:{verified.claims['key_name']}"
