"""Ports: the Protocols that inner layers depend on and adapters implement.

Adapters are named ``<Technology><Port>`` (``SqliteAuditStore``,
``PostgresAuditStore``, ``SyslogAuditSink``). Each port has one contract test
suite in ``tests/contract/`` that every adapter must pass.

Conventions for *storage* ports: methods are blocking and each call is one
transaction, so a write either happens entirely or not at all. Async services
call them through a ``store_runner.StoreRunner`` (one worker thread): a slow
disk never stalls the event loop, and a cancelled request can never cut a
transaction in half. Driver errors never cross a port: adapters raise
``StorageUnavailableError`` (``from`` the driver's exception).

Sections below group ports by concern; add new ports in their own section (the
break-glass, grant and directory stores, the alert dispatcher, ...). Views at the
end are the narrow, read-only slices of the gateway state that adapters need
(metrics, the doors): structural types, so no adapter imports the composition
root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: importing the ports pulls in no other package
    from glassgate.adapters.http.breakglass import BreakglassDoor
    from glassgate.adapters.http.gate import Gate, GateResult
    from glassgate.adapters.http.inbound import Inbound
    from glassgate.adapters.http.upstreams import Upstream
    from glassgate.alerts import Alert
    from glassgate.audit.chain import ChainHead, StoredRecord
    from glassgate.audit.checkpoints import Checkpoint
    from glassgate.audit.query import AuditQuery
    from glassgate.audit.records import AuditEvent, AuditRecord
    from glassgate.config.load import LoadedConfig
    from glassgate.config.schema import ObservabilityConfig
    from glassgate.core.principal import Principal
    from glassgate.core.quota import QuotaResult, QuotaTier
    from glassgate.core.request import IPAddress
    from glassgate.directory.records import DirectoryWrites, StoredDirectory
    from glassgate.tokens.api_keys import ApiKeyRecord
    from glassgate.tokens.keyring import KeyRing
    from glassgate.types import Secret
    from glassgate.workflows.grant_service import GrantCaller, GrantService
    from glassgate.workflows.keys import WebAuthnKey
    from glassgate.workflows.service import BreakglassService
    from glassgate.workflows.stored import WorkflowRecord

__all__ = [
    "AlertSink",
    "Alerts",
    "ApiKeyStore",
    "AuditAppender",
    "AuditCountersView",
    "AuditSink",
    "AuditStore",
    "Authenticates",
    "AuthenticatorView",
    "BreakglassSource",
    "Ceremonies",
    "CheckpointLog",
    "ConfigSource",
    "DecisionAudit",
    "DecisionSink",
    "DirectoryStore",
    "DoorState",
    "GrantsSource",
    "HolderView",
    "IdpAuthenticator",
    "KeySourceView",
    "OidcCodeClient",
    "Passwords",
    "PrincipalEnricher",
    "QuotaStore",
    "Readiness",
    "ScimTokenStore",
    "ServingState",
    "SessionAuthenticator",
    "StateSource",
    "StateView",
    "TrustedProxiesView",
    "WorkflowStore",
]


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
    written. It returns the records as written. Nothing updates; only ``prune``
    deletes, below a signed prune checkpoint.
    """

    def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]: ...

    def head(self) -> ChainHead:
        """The last record's sequence number and hash (``GENESIS`` when empty)."""
        ...

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[StoredRecord]:
        """Raw records with ``seq > after_seq`` in storage order, for verification."""
        ...

    def search(self, query: AuditQuery) -> list[AuditRecord]: ...

    def prune(self, checkpoint: Checkpoint) -> int:
        """Keep the prune ``checkpoint`` and delete every record up to its ``seq``, at once.

        The one deletion there is (``audit prune``): refused for the newest
        record (``ValueError``) and when the record at ``seq`` no longer has
        the signed hash (``ChainBrokenError``). Returns the records deleted.
        """
        ...

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


class AuditAppender(Protocol):
    """The durable half of ``audit.service.AuditLog``: what a privileged workflow writes
    through *before* it acts (``AuditUnavailableError``: do not act)."""

    async def append(self, event: AuditEvent) -> AuditRecord: ...


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


# --- alerts (shared contract: break-glass, the lockout guard, grants) ------------------


@runtime_checkable
class AlertSink(Protocol):
    """One alert channel (``adapters/alerts``: webhook, syslog, email)."""

    @property
    def name(self) -> str: ...

    async def deliver(self, alert: Alert) -> None:
        """Deliver ``alert`` once, now; ``AlertDeliveryError`` if it was not accepted."""
        ...


class Alerts(Protocol):
    """The fan-out the workflows call: every sink, concurrently, each with a bounded timeout.

    ``required=True`` raises ``AlertDeliveryError`` (``alert_delivery_failed``)
    unless at least one sink accepted the alert; ``required=False`` never
    raises (failures are logged and counted).
    """

    async def send(self, alert: Alert, *, required: bool = False) -> None: ...


# --- workflow records (break-glass; grants next) (SPEC C7) -----------------------------


@runtime_checkable
class WorkflowStore(Protocol):
    """Versioned documents by (kind, key), changed only in atomic batches.

    ``commit`` applies every write of the batch in one transaction, or none:
    a write whose ``version`` is 1 inserts (refused if the key exists); a
    higher version replaces the stored record only if that holds
    ``version - 1``. Any refusal raises ``ConcurrentChangeError`` and nothing
    of the batch is written, so two custodians approving at once, or a link
    redeemed twice, can never both succeed.
    """

    def commit(self, writes: Sequence[WorkflowRecord]) -> None: ...

    def get(self, kind: str, key: str) -> WorkflowRecord | None: ...

    def find(
        self, kind: str, *, a: str | None = None, b: str | None = None, limit: int = 1000
    ) -> list[WorkflowRecord]:
        """Records of ``kind`` matching the given index values, in the order first written."""
        ...

    def purge(self, kind: str, before: float) -> int:
        """Delete records of ``kind`` that expired before ``before``; returns how many."""
        ...

    def close(self) -> None: ...


class OidcCodeClient(Protocol):
    """The console's OAuth 2.0 client at the IdP (``adapters.idp.oidc_client``).

    ``IdPUnavailableError`` when the IdP cannot be asked; a code the IdP
    refuses is ``AuthenticationFailedError``.
    """

    async def authorization_url(self, state: str, nonce: str, verifier: str) -> str: ...

    async def exchange(self, code: str, verifier: str) -> str:
        """The raw ID token the token endpoint returned for ``code``."""
        ...


class GrantsSource(Protocol):
    """Just-in-time grants for the console and its API (``app.grants.GrantsDesk``).

    ``grant_service`` is the serving configuration's (None: no grant types);
    ``caller`` verifies an IdP access token exactly as the gate does (plus the
    directory's merged groups, never grant groups: a grant does not make its
    holder an approver) and raises ``TokenError`` when it is not valid.
    """

    def grant_service(self) -> GrantService | None: ...

    async def caller(self, raw_token: str) -> GrantCaller: ...

    def caller_of(self, principal: Principal) -> GrantCaller:
        """A caller already verified another way (a console IdP session)."""
        ...


class SessionAuthenticator(Protocol):
    """Break-glass session tokens (``ggbg_``) at the gate; needs the client address."""

    async def authenticate(self, raw: str, client: IPAddress) -> Principal: ...


class BreakglassSource(Protocol):
    """The break-glass service of the configuration now serving (None: not configured).

    The console asks for it per request: a reload that changes the locked
    policy gives it a new service.
    """

    def breakglass_service(self) -> BreakglassService | None: ...


class Passwords(Protocol):
    """argon2id hashing of local identities' passwords; blocking and CPU-heavy."""

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


# --- credentials (SPEC C1) -------------------------------------------------------------


class Authenticates(Protocol):
    """A raw credential -> the verified ``Principal``, or a ``TokenError``.

    Implemented by the IdP ``Authenticator``, the ``ApiKeyAuthenticator`` and the
    ``CredentialRouter`` in front of both (``adapters/idp``).
    """

    async def authenticate(self, raw: str, now: float) -> Principal: ...


class PrincipalEnricher(Protocol):
    """Adds to a verified principal what glassgate knows beyond the token.

    The one seam after authentication (``Gate``, for principals of the
    credential path; never break-glass): the directory's groups
    (``directory.merge_groups``) today, grant groups next. Returns the
    principal itself when there is nothing to add; never raises.
    """

    def enrich(self, principal: Principal, now: float) -> Principal: ...


# --- quotas (SPEC C4) ------------------------------------------------------------------


class QuotaStore(Protocol):
    """Counts one request against ``key``'s bucket (``adapters/storage/quotas``).

    Async because a shared store (Redis) is a network round trip; a store that
    cannot answer raises ``StorageUnavailableError`` and the request fails closed.
    """

    async def hit(self, tier: QuotaTier, key: str, now: float) -> QuotaResult: ...

    async def aclose(self) -> None:
        """Release connections (a shared store); the process is ending."""


# --- decisions (the gate's outputs) ----------------------------------------------------


class DecisionSink(Protocol):
    """Sees every gate decision, synchronously (metrics, the access log); never raises."""

    def record(self, result: GateResult) -> None: ...


class DecisionAudit(Protocol):
    """Writes the decision's audit record; raises AuditUnavailableError to refuse."""

    async def audit(self, result: GateResult, now: float) -> None: ...


# --- directory (SPEC C6) ---------------------------------------------------------------


@runtime_checkable
class DirectoryStore(Protocol):
    """Users, groups with their direct members, and group rules, read and written whole.

    ``load`` reads everything in one read transaction. ``commit`` writes all of
    ``writes`` in one transaction and returns the new revision, or raises
    ``DirectoryConflictError`` (writing nothing) when the stored revision is no
    longer ``expected_revision``: another process committed meanwhile. The
    revision grows with every commit, so a reader learns cheaply
    (``revision``) whether to load again.
    """

    def load(self) -> StoredDirectory: ...

    def revision(self) -> int: ...

    def commit(self, writes: DirectoryWrites, expected_revision: int) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class ScimTokenStore(Protocol):
    """SCIM bearer tokens by key id, digests only; a token changes only by revocation.

    ``add_scim_token`` returns False, changing nothing, when the id is taken;
    ``revoke_scim_tokens`` revokes every live token but ``keep`` and returns
    how many it revoked.
    """

    def scim_tokens(self) -> list[ApiKeyRecord]: ...

    def add_scim_token(self, record: ApiKeyRecord) -> bool: ...

    def revoke_scim_tokens(self, at: float, by: str | None, keep: str | None = None) -> int: ...


# --- views of the running gateway (read-only, structural) ------------------------------


class DoorState(Protocol):
    """What a front door needs from the current gateway state (``app.GatewayState``)."""

    @property
    def inbound(self) -> Inbound: ...

    @property
    def gate(self) -> Gate: ...

    @property
    def breakglass_door(self) -> BreakglassDoor | None:
        """The break-glass part of the data plane (None: no breakglass section)."""
        ...


class KeySourceView(Protocol):
    @property
    def keyrings(self) -> Mapping[str, KeyRing]: ...
    @property
    def fetches_by_issuer(self) -> Mapping[str, int]: ...
    @property
    def failures_by_issuer(self) -> Mapping[str, int]: ...


class AuthenticatorView(Protocol):
    @property
    def keys(self) -> KeySourceView: ...


class IdpAuthenticator(Authenticates, AuthenticatorView, Protocol):
    """The IdP side of the credential path, built per config (``adapters.idp.Authenticator``).

    ``ready`` once every issuer's keys are loaded; ``start`` loads them and
    starts their refresh, ``aclose`` stops it. Tests inject a fake through
    ``app.runtime.Runtime.authenticator``.
    """

    @property
    def ready(self) -> bool: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class StateView(Protocol):
    """What metrics read from the current state at scrape time."""

    @property
    def authenticator(self) -> AuthenticatorView: ...
    @property
    def upstreams(self) -> Mapping[str, Upstream]: ...
    @property
    def ready(self) -> bool: ...
    @property
    def loaded(self) -> LoadedConfig: ...


class HolderView(Protocol):
    """What metrics need from ``app.StateHolder``."""

    @property
    def state(self) -> StateView: ...
    @property
    def reloads_ok(self) -> int: ...
    @property
    def reloads_failed(self) -> int: ...


class ServingState(DoorState, StateView, Protocol):
    """The current state as the gateway's ASGI app serves it (``app.GatewayState``)."""


class StateSource(HolderView, Protocol):
    """What the gateway's ASGI app needs from ``app.StateHolder``: the current state,
    its lifecycle, and reload (SIGHUP, file watcher)."""

    @property
    def path(self) -> str: ...
    @property
    def state(self) -> ServingState: ...

    async def start(self) -> None: ...

    async def reload(self) -> bool: ...

    async def aclose(self) -> None: ...


class AuditCountersView(Protocol):
    """``audit.service.AuditCounters``: only ever increased."""

    @property
    def written(self) -> int: ...
    @property
    def lost(self) -> int: ...
    @property
    def refused(self) -> int: ...
    @property
    def minimal(self) -> int: ...


class Readiness(Protocol):
    """Whether the gateway can verify tokens yet (``app.StateHolder``); the console reports it."""

    @property
    def ready(self) -> bool: ...


class TrustedProxiesView(Protocol):
    """The serving config's ``trusted_proxies`` (``app.StateHolder``; they change on reload).

    The console finds a client's address exactly as the data plane does with them.
    """

    @property
    def trusted_proxies(self) -> tuple[IPv4Network | IPv6Network, ...]: ...


class ConfigSource(Protocol):
    """The current ``observability`` section (it changes on reload)."""

    def observability(self) -> ObservabilityConfig: ...
