"""A break-glass service wired with real parts where they run in-process.

Real: the WebAuthn ceremonies (py_webauthn) against software authenticators
with user verification, argon2id (fast parameters), the audit log (hash
chain in memory), the workflow store contract (memory). Fake: the clock
(moved by hand) and, unless a test passes real sinks, the alert fan-out.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any, TypeVar

from glassgate.adapters.alerts import build_alerts
from glassgate.adapters.alerts.fanout import AlertFanout
from glassgate.adapters.clock import now
from glassgate.adapters.credentials.passwords import Argon2Parameters, PasswordHasher
from glassgate.adapters.credentials.webauthn import RelyingParty, WebAuthnCeremonies
from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.alerts import Alert
from glassgate.app.compose import open_audit_log
from glassgate.audit.records import AuditRecord, parse_record
from glassgate.audit.service import AuditLog
from glassgate.config.load import load_config
from glassgate.errors import AlertDeliveryError
from glassgate.ports import AlertSink, WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.types import Secret
from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.policy import AccountPolicy, BreakglassPolicy
from glassgate.workflows.requests import Decision
from glassgate.workflows.service import BreakglassService
from glassgate.workflows.views import Actor, DecisionResult
from tests.support.authenticator import SoftAuthenticator

__all__ = [
    "ALLOWED",
    "LOOPBACK",
    "ORIGIN",
    "OUTSIDE",
    "PASSWORD",
    "Clock",
    "ConfigWorld",
    "Harness",
    "RecordingSink",
    "stored_without",
]

ORIGIN = "http://localhost:8081"
ALLOWED = ip_address("10.0.0.5")
LOOPBACK = ip_address("127.0.0.1")
OUTSIDE = ip_address("192.0.2.9")
PASSWORD = "correct horse battery staple"
T0 = 1_790_000_000.0
T = TypeVar("T")


@dataclass
class Clock:
    t: float = T0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class RecordingSink:
    """An alert sink that keeps what it got, or refuses everything when ``down``."""

    name = "recording"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.down = False

    async def deliver(self, alert: Alert) -> None:
        if self.down:
            raise AlertDeliveryError("recording sink is down")
        self.alerts.append(alert)

    def kinds(self) -> list[str]:
        return [alert.kind for alert in self.alerts]


def default_policy(**overrides: Any) -> BreakglassPolicy:
    fields: dict[str, Any] = {
        "accounts": {"ops": AccountPolicy("ops", (ip_network("10.0.0.0/24"),))},
        "custodians": frozenset({"alice", "bob", "carol"}),
        "quorum": 2,
        "recovery_routes": ("okta-admin",),
        "drill_route": "drill",
    }
    fields.update(overrides)
    return BreakglassPolicy(**fields)


@dataclass
class Harness:
    policy: BreakglassPolicy = field(default_factory=default_policy)
    clock: Clock = field(default_factory=Clock)
    sink: RecordingSink = field(default_factory=RecordingSink)
    store: WorkflowStore = field(default_factory=MemoryWorkflowStore)
    sinks: tuple[AlertSink, ...] | None = None
    devices: dict[str, SoftAuthenticator] = field(default_factory=dict)
    audit_store: MemoryAuditStore = field(default_factory=MemoryAuditStore)
    origin: str = ORIGIN  # the console's origin, which WebAuthn responses must name

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.audit_store, clock=self.clock)
        alerts = AlertFanout(self.sinks if self.sinks is not None else (self.sink,), timeout=2)
        self.runner = StoreRunner("test-workflows")
        self.service = BreakglassService(
            self.policy,
            self.store,
            self.audit,
            alerts,
            PasswordHasher(Argon2Parameters(time_cost=1, memory_cost=8, parallelism=1)),
            WebAuthnCeremonies(RelyingParty("localhost", "glassgate", (self.origin,))),
            self.clock,
            self.runner,
        )

    async def aclose(self) -> None:
        self.store.close()
        self.runner.close()
        await self.audit.close()

    def records(self, prefix: str = "breakglass") -> list[AuditRecord]:
        return [
            record
            for stored in self.audit_store.scan(0, 100_000)
            for record in [_parse(stored.body)]
            if record.type.startswith(prefix)
        ]

    def types(self, prefix: str = "breakglass") -> list[tuple[str, str]]:
        return [(r.type, r.outcome) for r in self.records(prefix)]

    async def enrol(
        self, kind: IdentityKind, name: str, *, password: str = PASSWORD
    ) -> SoftAuthenticator:
        link = await self.service.enrolment.create(kind, name, "cli:root")
        device = SoftAuthenticator(ORIGIN)
        await self.enrol_with(link.token.reveal(), device, password)
        self.devices[name] = device
        return device

    async def enrol_with(self, token: str, device: SoftAuthenticator, password: str) -> str:
        start = await self.service.enrolment.begin(token)
        credential = device.create(start.ceremony.public_key)
        return await self.service.enrolment.finish(
            token, start.ceremony.challenge_id, Secret(password), credential
        )

    async def sign_in(
        self,
        name: str,
        *,
        address: Any = ALLOWED,
        password: str = PASSWORD,
        device: SoftAuthenticator | None = None,
    ) -> Actor:
        options = await self.service.sign_in.begin(name, address)
        assertion = (device or self.devices[name]).get(options.public_key)
        signed = await self.service.sign_in.finish(
            name, Secret(password), options.challenge_id, assertion, address
        )
        return signed.actor

    async def decide(
        self, actor: Actor, request_id: str, decision: Decision = Decision.APPROVE
    ) -> DecisionResult:
        options = await self.service.activations.begin_decision(actor, request_id, decision)
        assertion = self.devices[actor.name].get(options.public_key)
        return await self.service.activations.decide(
            actor, request_id, decision, options.challenge_id, assertion
        )

    async def team(self) -> dict[str, Actor]:
        """ops (account) and alice, bob (custodians), enrolled and signed in."""
        await self.enrol(IdentityKind.ACCOUNT, "ops")
        for name in ("alice", "bob"):
            await self.enrol(IdentityKind.CUSTODIAN, name)
        return {name: await self.sign_in(name) for name in ("ops", "alice", "bob")}


def _parse(body: bytes) -> AuditRecord:
    return parse_record(body)


class ConfigWorld:
    """An in-process service on the database of a config file: the console's part of the path.

    What a console (or a person at one) does, done here in-process: enrol
    through links, sign in, request, approve. The gateway process or the CLI
    shares the database and sees every change.
    """

    def __init__(
        self, path: Path, env: dict[str, str] | None = None, *, config_alerts: bool = False
    ) -> None:
        """``config_alerts``: alert through the config's sinks, not a ``RecordingSink``."""
        self.loaded = load_config(path, env)
        self.sink = RecordingSink()
        self.config_alerts = config_alerts
        self.devices: dict[str, SoftAuthenticator] = {}
        self.passwords: dict[str, str] = {}  # after a rotation; PASSWORD otherwise

    def run(self, action: Callable[[BreakglassService], Awaitable[T]]) -> T:
        config = self.loaded.config
        compiled = self.loaded.compiled.breakglass
        assert compiled is not None

        async def body() -> T:
            audit = open_audit_log(config.storage, config.audit)
            await audit.start()
            store = open_workflow_store(StorageTarget.from_config(config.storage))
            runner = StoreRunner("test-workflows")
            alerts = (
                build_alerts(config.alerts, clock=now)
                if self.config_alerts
                else AlertFanout([self.sink])
            )
            service = BreakglassService(
                compiled.policy,
                store,
                audit,
                alerts,
                PasswordHasher(Argon2Parameters(1, 8, 1)),
                WebAuthnCeremonies(RelyingParty("localhost", "glassgate", (ORIGIN,))),
                now,
                runner,
            )
            try:
                return await action(service)
            finally:
                await alerts.close()
                store.close()
                runner.close()
                await audit.close()

        return asyncio.run(body())

    def enrol(self, name: str, link: str) -> None:
        token = link.rsplit("/", 1)[1]
        device = self.devices[name] = SoftAuthenticator(ORIGIN)

        async def act(service: BreakglassService) -> str:
            start = await service.enrolment.begin(token)
            credential = device.create(start.ceremony.public_key)
            return await service.enrolment.finish(
                token, start.ceremony.challenge_id, Secret(PASSWORD), credential
            )

        self.run(act)

    async def sign_in(self, service: BreakglassService, name: str) -> Actor:
        options = await service.sign_in.begin(name, LOOPBACK)
        assertion = self.devices[name].get(options.public_key)
        signed = await service.sign_in.finish(
            name,
            Secret(self.passwords.get(name, PASSWORD)),
            options.challenge_id,
            assertion,
            LOOPBACK,
        )
        return signed.actor

    async def approve(self, service: BreakglassService, name: str, request_id: str) -> Any:
        actor = await self.sign_in(service, name)
        options = await service.activations.begin_decision(actor, request_id, Decision.APPROVE)
        assertion = self.devices[name].get(options.public_key)
        return await service.activations.decide(
            actor, request_id, Decision.APPROVE, options.challenge_id, assertion
        )


def stored_without(workdir: Path, log: Path, *secrets: str) -> bytes:
    """Check no secret is in the gateway's log, audit records or workflow documents (the
    SQLite database in ``workdir``); return the audit records' bodies for more checks."""
    db = sqlite3.connect(workdir / "glassgate.db")
    try:
        audit = b"".join(bytes(row[0]) for row in db.execute("SELECT body FROM audit_records"))
        documents = "".join(row[0] for row in db.execute("SELECT document FROM workflow_records"))
    finally:
        db.close()
    logged = log.read_text()
    for secret in secrets:
        assert secret not in logged, "a secret in the gateway's log"
        assert secret.encode() not in audit, "a secret in the audit log"
        assert secret not in documents, "a secret in a workflow record"
    return audit
