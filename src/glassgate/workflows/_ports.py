"""Ports of the break-glass work that are not yet in ``glassgate.ports``.

Kept apart only while ``ports.py`` is being restructured (issue 8); they move
there unchanged. The alert ports are the shared contract
(``ALERTS-CONTRACT``): ``AlertSink`` is one delivery channel, ``Alerts`` the
fan-out the workflows, the directory's lockout guard and grants call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from glassgate.alerts import Alert
    from glassgate.types import Secret
    from glassgate.workflows.keys import WebAuthnKey

__all__ = [
    "AlertSink",
    "Alerts",
    "Ceremonies",
    "Passwords",
    "StoredRecord",
    "WorkflowStore",
]


@runtime_checkable
class AlertSink(Protocol):
    """One alert channel (``adapters/alerts``: webhook, syslog, email)."""

    @property
    def name(self) -> str: ...

    async def deliver(self, alert: Alert) -> None:
        """Deliver ``alert`` once, now; ``AlertDeliveryError`` if it was not accepted."""
        ...


class Alerts(Protocol):
    """The fan-out service: every configured sink, concurrently, with a bounded timeout.

    ``required=True`` raises ``AlertDeliveryError`` (``alert_delivery_failed``)
    unless at least one sink accepted the alert; ``required=False`` never
    raises (failures are logged and counted).
    """

    async def send(self, alert: Alert, *, required: bool = False) -> None: ...


# --- workflow records (break-glass; later grants) ------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record as stored: its kind and key, a version for optimistic updates, the document.

    ``a`` and ``b`` are the two indexed lookup values (e.g. account and state);
    ``expires_at`` lets ``purge`` drop short-lived records (challenges).
    """

    kind: str
    key: str
    version: int
    document: Mapping[str, Any]
    a: str | None = None
    b: str | None = None
    expires_at: float | None = None


@runtime_checkable
class WorkflowStore(Protocol):
    """Versioned documents by (kind, key), changed only in atomic batches.

    ``commit`` applies every write of the batch in one transaction, or none:
    a write whose ``version`` is 1 inserts (refused if the key exists); a
    higher version replaces the stored record only if that holds
    ``version - 1``. Any refusal raises ``ConcurrentChangeError`` and nothing
    of the batch is written, so two custodians approving at once, or a link
    redeemed twice, can never both succeed. Blocking, one transaction per
    call, like every storage port.
    """

    def commit(self, writes: Sequence[StoredRecord]) -> None: ...

    def get(self, kind: str, key: str) -> StoredRecord | None: ...

    def find(
        self, kind: str, *, a: str | None = None, b: str | None = None, limit: int = 1000
    ) -> list[StoredRecord]:
        """Records of ``kind`` matching the given index values, in the order first written."""
        ...

    def purge(self, kind: str, before: float) -> int:
        """Delete records of ``kind`` that expired before ``before``; returns how many."""
        ...

    def close(self) -> None: ...


# --- credentials of local identities ---------------------------------------------------


class Passwords(Protocol):
    """argon2id hashing (``adapters.credentials.passwords``); blocking and CPU-heavy."""

    def hash(self, password: Secret) -> str: ...

    def verify(self, stored: str | None, password: Secret) -> None:
        """Return on a match, else ``AuthenticationFailedError``."""
        ...


class Ceremonies(Protocol):
    """WebAuthn registration and authentication (``adapters.credentials.webauthn``)."""

    def registration_options(
        self, identity: str, display_name: str, challenge: bytes, existing: Sequence[WebAuthnKey]
    ) -> dict[str, Any]: ...

    def verify_registration(
        self, identity: str, response: str | Mapping[str, Any], challenge: bytes, now: float
    ) -> WebAuthnKey: ...

    def authentication_options(
        self, challenge: bytes, keys: Sequence[WebAuthnKey]
    ) -> dict[str, Any]: ...

    def verify_authentication(
        self, response: str | Mapping[str, Any], challenge: bytes, keys: Sequence[WebAuthnKey]
    ) -> tuple[WebAuthnKey, int]: ...
