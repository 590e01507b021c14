"""Typed access to the ``WorkflowStore``: which record is which kind, key and index.

The registry below is an explicit list (no registration by import). Every
store call runs through the service's ``StoreRunner`` (one worker thread), so
a slow database never stalls the event loop and a cancelled request never
cuts a transaction in half.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from glassgate.errors import StorageUnavailableError
from glassgate.ports import WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.workflows.challenges import Challenge
from glassgate.workflows.codec import decode, encode
from glassgate.workflows.consoles import ConsoleSession
from glassgate.workflows.drills import Drill
from glassgate.workflows.grants import Grant, person_id
from glassgate.workflows.identities import LocalIdentity
from glassgate.workflows.idp_sessions import IdpLogin, IdpSession
from glassgate.workflows.incidents import Incident
from glassgate.workflows.keys import WebAuthnKey
from glassgate.workflows.links import OneTimeLink
from glassgate.workflows.requests import BreakglassRequest
from glassgate.workflows.sessions import Session
from glassgate.workflows.stored import WorkflowRecord

__all__ = ["Change", "Records", "Versioned"]

T = TypeVar("T")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: str
    key: Callable[[Any], str]
    a: Callable[[Any], str | None] = lambda _: None
    b: Callable[[Any], str | None] = lambda _: None
    expires: Callable[[Any], float | None] = lambda _: None


_SPECS: dict[type, _Spec] = {
    LocalIdentity: _Spec("bg-identity", lambda r: r.ref, lambda r: r.kind.value),
    WebAuthnKey: _Spec("bg-key", lambda r: r.credential_id, lambda r: r.identity),
    OneTimeLink: _Spec("bg-link", lambda r: r.digest, lambda r: r.identity),
    Challenge: _Spec(
        "bg-challenge", lambda r: r.id, lambda r: r.subject, expires=lambda r: r.expires_at
    ),
    BreakglassRequest: _Spec(
        "bg-request", lambda r: r.id, lambda r: r.account, lambda r: r.approval.state.value
    ),
    Session: _Spec("bg-session", lambda r: r.id, lambda r: r.account, lambda r: r.state.value),
    Incident: _Spec("bg-incident", lambda r: r.id, lambda r: r.account, lambda r: r.state.value),
    Drill: _Spec("bg-drill", lambda r: r.id, lambda r: r.account, lambda r: r.result.value),
    ConsoleSession: _Spec(
        "bg-console", lambda r: r.id, lambda r: r.identity, expires=lambda r: r.expires_at
    ),
    IdpLogin: _Spec("idp-login", lambda r: r.state, expires=lambda r: r.expires_at),
    IdpSession: _Spec(
        "idp-session", lambda r: r.id, lambda r: r.subject, expires=lambda r: r.expires_at
    ),
    Grant: _Spec(
        "grant", lambda r: r.id, lambda r: person_id(r.issuer, r.subject), lambda r: r.stored_state
    ),
}


@dataclass(frozen=True, slots=True)
class Versioned(Generic[T]):
    """A record as read, with the version a later write must replace."""

    value: T
    version: int


@dataclass(frozen=True, slots=True)
class Change:
    """Write ``value`` over ``previous`` (None: a new record)."""

    value: object
    previous: int | None = None


def _spec(cls: type) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        raise TypeError(f"{cls.__name__} is not a workflow record")
    return spec


def _stored(change: Change) -> WorkflowRecord:
    spec = _spec(type(change.value))
    value = change.value
    return WorkflowRecord(
        kind=spec.kind,
        key=spec.key(value),
        version=(change.previous or 0) + 1,
        document=encode(value),
        a=spec.a(value),
        b=spec.b(value),
        expires_at=spec.expires(value),
    )


def _read(cls: type[T], record: WorkflowRecord) -> Versioned[T]:
    try:
        return Versioned(decode(cls, record.document), record.version)
    except ValueError as exc:
        raise StorageUnavailableError(
            f"stored {record.kind} {record.key[:32]!r} is unreadable ({exc}); fix or remove it"
        ) from None


class Records:
    """Async, typed facade over one ``WorkflowStore``, called through its ``StoreRunner``."""

    def __init__(self, store: WorkflowStore, runner: StoreRunner) -> None:
        self._store = store
        self._runner = runner

    async def _call(self, function: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        return await self._runner.run(functools.partial(function, *args, **kwargs))

    async def get(self, cls: type[T], key: str) -> Versioned[T] | None:
        record = await self._call(self._store.get, _spec(cls).kind, key)
        return None if record is None else _read(cls, record)

    async def find(
        self, cls: type[T], *, a: str | None = None, b: str | None = None
    ) -> list[Versioned[T]]:
        records = await self._call(self._store.find, _spec(cls).kind, a=a, b=b)
        return [_read(cls, record) for record in records]

    async def commit(self, *changes: Change) -> None:
        """All of ``changes`` at once, or ``ConcurrentChangeError`` and none."""
        await self._call(self._store.commit, [_stored(change) for change in changes])

    async def purge(self, cls: type, before: float) -> int:
        return await self._call(self._store.purge, _spec(cls).kind, before)
