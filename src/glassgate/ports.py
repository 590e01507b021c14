"""Ports: the Protocols that inner layers depend on and adapters implement.

Adapters are named ``<Technology><Port>`` (``SqliteAuditStore``,
``PostgresAuditStore``, ``SyslogAuditSink``). Each port has one contract test
suite in ``tests/contract/`` that every adapter must pass.

Conventions for *storage* ports: methods are blocking and each call is one
transaction, so a write either happens entirely or not at all. Async services
call them through one dedicated worker thread (see ``audit.service``): a slow
disk never stalls the event loop, and a cancelled request can never cut a
transaction in half. Driver errors never cross a port: adapters raise
``StorageUnavailableError`` (``from`` the driver's exception).

Sections below group ports by concern; add new ports in their own section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: importing the ports pulls in no domain package
    from glassgate.audit.chain import ChainHead, StoredRecord
    from glassgate.audit.checkpoints import Checkpoint
    from glassgate.audit.query import AuditQuery
    from glassgate.audit.records import AuditEvent, AuditRecord
    from glassgate.tokens.api_keys import ApiKeyRecord

__all__ = ["ApiKeyStore", "AuditSink", "AuditStore", "CheckpointLog"]


# --- audit (SPEC C8) -------------------------------------------------------------------


@runtime_checkable
class CheckpointLog(Protocol):
    """Somewhere signed checkpoints are kept: the database, an append-only file, ..."""

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint`` durably; adding the same one twice is harmless."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint kept, in ascending sequence order."""
        ...


@runtime_checkable
class AuditStore(CheckpointLog, Protocol):
    """The append-only, hash-chained audit log.

    ``append`` links and writes all ``events`` in one transaction, under a
    lock that serialises every writer of the same database (several
    processes included), so the chain never forks and no record is ever half
    written. It returns the records as written. Nothing updates or deletes.
    """

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]: ...

    def head(self) -> ChainHead:
        """The last record's sequence number and hash (``GENESIS`` when empty)."""
        ...

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        """Raw records with ``seq > after_seq`` in storage order, for verification."""
        ...

    def search(self, query: AuditQuery) -> list[AuditRecord]: ...

    def close(self) -> None: ...


class AuditSink(Protocol):
    """Live forwarding of records to a SIEM or alerting endpoint.

    ``offer`` never blocks and never raises: when the sink's queue is full the
    item is dropped and counted in ``dropped``. Delivery retries with backoff
    in the sink's own task, started by ``start`` and drained by ``close``.
    """

    @property
    def dropped(self) -> int: ...

    def offer(self, record: AuditRecord) -> bool: ...

    def offer_checkpoint(self, checkpoint: Checkpoint) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


# --- API keys (SPEC C4) ----------------------------------------------------------------


@runtime_checkable
class ApiKeyStore(Protocol):
    """Machine API keys by key id. Only digests are stored: no method ever sees a secret.

    ``add`` returns False, changing nothing, when the key id is already taken.
    ``revoke`` is one-way and idempotent: it sets ``revoked_at``/``revoked_by``
    the first time and returns the record as stored afterwards (``None`` for an
    unknown id). Nothing deletes or edits a key otherwise, so a revoked key
    stays listed and its id is never reused. A change made through one store
    (the CLI) is seen by every other store on the same database (gateways).
    """

    def add(self, record: ApiKeyRecord) -> bool: ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def records(self) -> list[ApiKeyRecord]:
        """Every key, revoked and expired ones included, oldest first."""
        ...

    def revoke(self, key_id: str, at: float, by: str | None = None) -> ApiKeyRecord | None: ...

    def close(self) -> None: ...
