"""The break-glass JSON API on a real listener, over the real service (WebAuthn, argon2, audit).

Software authenticators stand in for keys here (the browser suite uses
Chromium's virtual ones): each person's ``SoftAuthenticator`` answers the
options the API hands out, exactly as ``credential.toJSON()`` would. Every
refusal is asserted with its status and code, and the generic sign-in
failure is asserted to read the same whatever failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.schema import SignInLimitsConfig
from glassgate.web import ConsoleServices, create_console_app
from glassgate.web.throttle import SignInLimits, SignInThrottle
from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.policy import AccountPolicy
from glassgate.workflows.service import BreakglassService
from tests.support.authenticator import SoftAuthenticator
from tests.support.breakglass import ORIGIN, PASSWORD, Harness, default_policy
from tests.support.console import ConsoleClient, serving

OUTSIDER = "127.0.0.9"  # a loopback address outside the account's networks
GENERIC = "sign-in failed: check the name, password, security key and network"


class Ready:
    ready = True


@dataclass
class Source:
    service: BreakglassService

    def breakglass_service(self) -> BreakglassService | None:
        return self.service


@dataclass
class World:
    harness: Harness
    base: str
    keys: dict[str, SoftAuthenticator] = field(default_factory=dict)
    clients: list[ConsoleClient] = field(default_factory=list)

    def client(self, *, source: str | None = None) -> ConsoleClient:
        client = ConsoleClient(self.base, source=source)
        self.clients.append(client)
        return client

    async def enrol(self, kind: IdentityKind, name: str) -> SoftAuthenticator:
        link = await self.harness.service.enrolment.create(kind, name, "cli:test")
        key = SoftAuthenticator(ORIGIN)
        key.ignore_allow_list = True  # sign even when offered a decoy: the attacker's view
        response = await enrol_with(self.client(), link.token.reveal(), key)
        assert response.status_code == 200, response.text
        self.keys[name] = key
        return key

    async def sign_in(
        self,
        name: str,
        *,
        password: str | None = PASSWORD,
        key: SoftAuthenticator | None = None,
        source: str | None = None,
        use_key: bool = True,
    ) -> tuple[ConsoleClient, httpx.Response]:
        client = self.client(source=source)
        begun = await client.post("/api/sign-in/begin", {"name": name})
        assert begun.status_code == 200, begun.text
        body: dict[str, Any] = {
            "name": name,
            "challenge_id": begun.json()["challenge_id"],
            "session": "bearer",
        }
        if password is not None:
            body["password"] = password
        if use_key:
            body["credential"] = (key or self.keys[name]).get(begun.json()["options"])
        finished = await client.post("/api/sign-in/finish", body)
        if finished.status_code == 200:
            client.bearer = finished.json()["token"]
        return client, finished

    async def signed_in(self, name: str) -> ConsoleClient:
        client, response = await self.sign_in(name)
        assert response.status_code == 200, response.text
        return client

    async def team(self) -> dict[str, ConsoleClient]:
        await self.enrol(IdentityKind.ACCOUNT, "ops")
        for name in ("alice", "bob", "carol"):
            await self.enrol(IdentityKind.CUSTODIAN, name)
        return {n: await self.signed_in(n) for n in ("ops", "alice", "bob", "carol")}


async def enrol_with(
    client: ConsoleClient, token: str, key: SoftAuthenticator, password: str = PASSWORD
) -> httpx.Response:
    begun = await client.post("/api/enrolment/begin", {"token": token})
    if begun.status_code != 200:
        return begun
    return await client.post(
        "/api/enrolment/finish",
        {
            "token": token,
            "password": password,
            "password_again": password,
            "challenge_id": begun.json()["challenge_id"],
            "credential": key.create(begun.json()["options"]),
        },
    )


async def decide(
    client: ConsoleClient, key: SoftAuthenticator, request_id: str, decision: str = "approve"
) -> httpx.Response:
    begun = await client.post(f"/api/requests/{request_id}/decisions/begin", {"decision": decision})
    if begun.status_code != 200:
        return begun
    return await client.post(
        f"/api/requests/{request_id}/decisions",
        {
            "decision": decision,
            "challenge_id": begun.json()["challenge_id"],
            "credential": key.get(begun.json()["options"]),
        },
    )


def run(scenario: Callable[[World], Awaitable[None]], **limits: int) -> None:
    policy = default_policy(accounts={"ops": AccountPolicy("ops", (ip_network("127.0.0.1/32"),))})

    async def main() -> None:
        harness = Harness(policy=policy)
        config = SignInLimitsConfig.model_validate({"per_address": 100, **limits})
        throttle = SignInThrottle(
            MemoryQuotaStore(), SignInLimits.from_config(config), harness.clock
        )
        services = ConsoleServices(
            readiness=Ready(), breakglass=Source(harness.service), throttle=throttle
        )
        async with serving(create_console_app(services)) as base:
            world = World(harness, base)
            try:
                await scenario(world)
            finally:
                for client in world.clients:
                    await client.aclose()
                await harness.aclose()

    asyncio.run(main())


# --- the happy path -----------------------------------------------------------------------


def test_request_approve_start_end_through_the_api() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        ops, alice, bob = people["ops"], people["alice"], people["bob"]
        me = await ops.get("/api/me")
        assert me.json()["name"] == "ops"
        assert me.json()["kind"] == "breakglass"

        filed = await ops.post(
            "/api/requests", {"reason": "Okta admin locked out", "incident_ref": "INC-1"}
        )
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]
        queue = await alice.get("/api/approvals")
        assert [r["id"] for r in queue.json()["requests"]] == [request_id]

        assert (await decide(alice, world.keys["alice"], request_id)).status_code == 200
        approved = await decide(bob, world.keys["bob"], request_id)
        assert approved.json()["request"]["state"] == "approved"
        assert approved.json()["shown_once"] is None

        started = await ops.post(f"/api/requests/{request_id}/start")
        assert started.status_code == 201, started.text
        session = started.json()["session"]
        assert started.json()["token"].startswith("ggbg_")
        cookie = started.headers["set-cookie"]
        assert cookie.startswith("gg_breakglass=ggbg_")
        for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
            assert attribute in cookie
        assert session["client_ip"] == "127.0.0.1"

        shown = await alice.get(f"/api/sessions/{session['id']}")
        assert shown.json()["state"] == "active"
        ended = await alice.post(f"/api/sessions/{session['id']}/end")
        assert ended.status_code == 200
        assert ended.json()["state"] == "ended"
        assert ended.json()["ended_by"] == "custodian:alice"

    run(scenario)


def test_the_openapi_document_describes_every_break_glass_operation() -> None:
    async def scenario(world: World) -> None:
        document = (await world.client().get("/api/openapi.json")).json()
        validate(document)
        paths = document["paths"]
        assert {
            "/api/sign-in/begin",
            "/api/requests/{id}/decisions",
            "/api/sessions/{id}/end",
        } <= set(paths)
        decide_op = paths["/api/requests/{id}/decisions"]["post"]
        assert decide_op["parameters"] == [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
        assert {"401", "403", "409", "410"} <= set(decide_op["responses"])
        finish = document["components"]["schemas"]["SignInFinish"]
        assert finish["properties"]["password"]["format"] == "password"

    run(scenario)


# --- sign-in refusals: each one generic -------------------------------------------------


@pytest.mark.parametrize(
    "case", ["password-only", "key-only", "wrong-password", "wrong-key", "unknown-name"]
)
def test_every_sign_in_failure_is_the_same_401(case: str) -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        other = await world.enrol(IdentityKind.CUSTODIAN, "alice")  # an enrolled, wrong key
        arguments: dict[str, Any] = {
            "password-only": {"use_key": False},
            "key-only": {"password": None},
            "wrong-password": {"password": "not the password at all"},
            "wrong-key": {"key": other},
            "unknown-name": {"key": other},
        }[case]
        name = "nobody" if case == "unknown-name" else "ops"
        _, response = await world.sign_in(name, **arguments)
        assert response.status_code == 401
        assert response.json() == {
            "error": "authentication_failed",
            "message": GENERIC,
            "problems": [],
        }

    run(scenario)


def test_sign_in_from_outside_the_networks_or_with_a_spoofed_forwarded_for_fails() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        _, outside = await world.sign_in("ops", source=OUTSIDER)
        assert outside.status_code == 401
        assert outside.json()["message"] == GENERIC
        spoofer = world.client(source=OUTSIDER)
        spoofer.http.headers["x-forwarded-for"] = "127.0.0.1"  # no trusted proxies: ignored
        begun = await spoofer.post("/api/sign-in/begin", {"name": "ops"})
        finished = await spoofer.post(
            "/api/sign-in/finish",
            {
                "name": "ops",
                "password": PASSWORD,
                "challenge_id": begun.json()["challenge_id"],
                "credential": world.keys["ops"].get(begun.json()["options"]),
            },
        )
        assert finished.status_code == 401
        assert finished.json()["message"] == GENERIC

    run(scenario)


def test_sign_in_attempts_are_throttled_per_account_only_from_where_they_could_succeed() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        for _ in range(3):  # from outside: never counted against the account
            _, refused = await world.sign_in("ops", source=OUTSIDER)
            assert refused.status_code == 401
        for _ in range(2):
            _, wrong = await world.sign_in("ops", password="wrong password, again")
            assert wrong.status_code == 401
        _, throttled = await world.sign_in("ops")
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "sign_in_throttled"
        assert int(throttled.headers["retry-after"]) > 0
        world.harness.clock.advance(900)
        _, again = await world.sign_in("ops")
        assert again.status_code == 200

    run(scenario, per_account=2)


def test_sign_in_attempts_are_throttled_per_address_whatever_the_name() -> None:
    async def scenario(world: World) -> None:
        client = world.client()
        answers = [
            (await client.post("/api/sign-in/begin", {"name": f"n{i}"})).status_code
            for i in range(4)
        ]
        assert answers == [200, 200, 200, 429]

    run(scenario, per_address=3)


# --- decisions ----------------------------------------------------------------------------


def test_decision_refusals() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        ops, alice = people["ops"], people["alice"]
        filed = await ops.post("/api/requests", {"reason": "r", "incident_ref": "INC-2"})
        request_id = filed.json()["id"]

        # self-approval: the requester is no custodian
        own = await ops.post(f"/api/requests/{request_id}/decisions/begin", {"decision": "approve"})
        assert own.status_code == 403
        # the same custodian twice
        assert (await decide(alice, world.keys["alice"], request_id)).status_code == 200
        twice = await decide(alice, world.keys["alice"], request_id)
        assert twice.status_code == 403
        assert twice.json()["error"] == "approval_refused"
        # one approval of two: the session cannot start
        early = await ops.post(f"/api/requests/{request_id}/start")
        assert early.status_code == 409

    run(scenario)


def test_a_replayed_or_foreign_assertion_is_refused() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        ops, alice, bob = people["ops"], people["alice"], people["bob"]
        first = (await ops.post("/api/requests", {"reason": "r", "incident_ref": "I"})).json()["id"]
        begun = await bob.post(f"/api/requests/{first}/decisions/begin", {"decision": "approve"})
        assertion = world.keys["bob"].get(begun.json()["options"])
        body = {
            "decision": "approve",
            "challenge_id": begun.json()["challenge_id"],
            "credential": assertion,
        }
        # an assertion bound to this request, posted for another one
        await ops.post(f"/api/requests/{first}/withdraw")
        second = (await ops.post("/api/requests", {"reason": "r2", "incident_ref": "I2"})).json()[
            "id"
        ]
        foreign = await bob.post(f"/api/requests/{second}/decisions", body)
        assert foreign.status_code in {401, 403}
        # a replay of an assertion already used
        begun = await alice.post(f"/api/requests/{second}/decisions/begin", {"decision": "approve"})
        assertion = world.keys["alice"].get(begun.json()["options"])
        body = {
            "decision": "approve",
            "challenge_id": begun.json()["challenge_id"],
            "credential": assertion,
        }
        assert (await alice.post(f"/api/requests/{second}/decisions", body)).status_code == 200
        replay = await alice.post(f"/api/requests/{second}/decisions", body)
        assert replay.status_code in {401, 403}

    run(scenario)


def test_an_expired_request_cannot_be_decided_or_started() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        ops, alice = people["ops"], people["alice"]
        request_id = (await ops.post("/api/requests", {"reason": "r", "incident_ref": "I"})).json()[
            "id"
        ]
        world.harness.clock.advance(world.harness.policy.request_ttl + 1)
        for client in (ops, alice):
            client.bearer = (await world.signed_in(client_name(people, client))).bearer
        late = await alice.post(
            f"/api/requests/{request_id}/decisions/begin", {"decision": "approve"}
        )
        assert late.status_code in {409, 410}
        assert (await ops.post(f"/api/requests/{request_id}/start")).status_code in {409, 410}

    run(scenario)


def client_name(people: dict[str, ConsoleClient], client: ConsoleClient) -> str:
    return next(name for name, c in people.items() if c is client)


# --- links, CSRF, sessions ----------------------------------------------------------------


def test_a_link_works_once_and_not_after_an_hour() -> None:
    async def scenario(world: World) -> None:
        used = await world.harness.service.enrolment.create(IdentityKind.CUSTODIAN, "alice", "t")
        assert (
            await enrol_with(world.client(), used.token.reveal(), SoftAuthenticator(ORIGIN))
        ).status_code == 200
        again = await enrol_with(world.client(), used.token.reveal(), SoftAuthenticator(ORIGIN))
        assert again.status_code == 410
        assert again.json()["error"] == "link_invalid"
        late = await world.harness.service.enrolment.create(IdentityKind.CUSTODIAN, "bob", "t")
        world.harness.clock.advance(3601)
        expired = await enrol_with(world.client(), late.token.reveal(), SoftAuthenticator(ORIGIN))
        assert expired.status_code == 410
        assert expired.json() == again.json(), "used and expired read the same"

    run(scenario)


def test_posts_without_the_csrf_token_are_refused() -> None:
    async def scenario(world: World) -> None:
        client = world.client()
        await client.get("/api/openapi.json")
        client.csrf = "forged"
        forged = await client.post("/api/sign-in/begin", {"name": "ops"})
        assert forged.status_code == 403
        assert forged.json()["error"] == "csrf_failed"
        bare = await world.client().http.post("/api/sign-in/begin", json={"name": "ops"})
        assert bare.status_code == 403, "no cookie at all is no pass"

    run(scenario)


def test_a_console_session_is_bound_to_its_address_and_ends_on_sign_out() -> None:
    async def scenario(world: World) -> None:
        await world.enrol(IdentityKind.ACCOUNT, "ops")
        ops = await world.signed_in("ops")
        thief = world.client(source=OUTSIDER)
        thief.bearer = ops.bearer
        assert (await thief.get("/api/me")).status_code == 401
        assert (await ops.post("/api/sign-out")).status_code == 200
        assert (await ops.get("/api/me")).status_code == 401

    run(scenario)


async def _started(world: World, people: dict[str, ConsoleClient]) -> str:
    """A session started through the API after two approvals; returns its id."""
    ops = people["ops"]
    filed = await ops.post("/api/requests", {"reason": "r", "incident_ref": "INC-9"})
    request_id = filed.json()["id"]
    for name in ("alice", "bob"):
        assert (await decide(people[name], world.keys[name], request_id)).status_code == 200
    started = await ops.post(f"/api/requests/{request_id}/start")
    assert started.status_code == 201, started.text
    return str(started.json()["session"]["id"])


def test_an_ended_session_stays_ended() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        session_id = await _started(world, people)
        ended = await people["ops"].post(f"/api/sessions/{session_id}/end")
        assert ended.json()["state"] == "ended"
        again = await people["bob"].post(f"/api/sessions/{session_id}/end")
        assert again.status_code == 409
        assert (await people["bob"].get(f"/api/sessions/{session_id}")).json()["state"] == "ended"
        assert (await people["ops"].get("/api/sessions")).json()["sessions"] == []

    run(scenario)


def test_an_expired_session_shows_it_and_cannot_be_ended() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        session_id = await _started(world, people)
        world.harness.clock.advance(world.harness.policy.session_ttl + 1)
        assert (await people["alice"].get("/api/me")).status_code == 401, "console sign-in over"
        alice = await world.signed_in("alice")
        assert (await alice.get(f"/api/sessions/{session_id}")).json()["state"] == "expired"
        assert (await alice.post(f"/api/sessions/{session_id}/end")).status_code == 409

    run(scenario)


def test_a_reset_link_goes_to_the_last_approver_once_and_works_once_within_the_hour() -> None:
    async def scenario(world: World) -> None:
        people = await world.team()
        await _started(world, people)
        service = world.harness.service

        async def reset_link() -> str:
            request = await service.activations.open_reset("ops", "cli:test", "rotate after use")
            alice, bob = await world.signed_in("alice"), await world.signed_in("bob")
            first = await decide(alice, world.keys["alice"], request.id)
            assert first.json()["shown_once"] is None
            last = await decide(bob, world.keys["bob"], request.id)
            shown = last.json()["shown_once"]
            assert shown["label"].startswith("Reset link for breakglass:ops")
            assert shown["value"].startswith(world.base + "/reset/")
            return str(shown["value"]).rsplit("/", 1)[1]

        late = await reset_link()
        world.harness.clock.advance(3601)
        expired = await enrol_with(world.client(), late, SoftAuthenticator(ORIGIN))
        assert expired.status_code == 410
        token = await reset_link()
        key = SoftAuthenticator(ORIGIN)
        rotated = await enrol_with(world.client(), token, key, "a new passphrase after use")
        assert rotated.status_code == 200, rotated.text
        reused = await enrol_with(world.client(), token, SoftAuthenticator(ORIGIN))
        assert reused.status_code == 410
        assert reused.json() == expired.json()

    run(scenario)
