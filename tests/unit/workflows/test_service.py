"""The break-glass service end to end, in-process: real WebAuthn and argon2, every refusal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from ipaddress import ip_network

import pytest

from glassgate.adapters.storage.audit.memory import MemoryAuditStore
from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.errors import (
    AccountLockedError,
    ActionForbiddenError,
    AlertDeliveryError,
    ApprovalRefusedError,
    AuthenticationFailedError,
    ConcurrentChangeError,
    InvalidTransitionError,
    LinkInvalidError,
    NotFoundError,
    QuorumNotMetError,
    SessionAddressError,
    SessionEndedError,
    StorageUnavailableError,
    WorkflowInputError,
)
from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.links import LinkPurpose, issue_link
from glassgate.workflows.policy import AccountPolicy
from glassgate.workflows.records import Change
from glassgate.workflows.requests import Decision
from tests.support.authenticator import SoftAuthenticator
from tests.support.breakglass import ALLOWED, ORIGIN, OUTSIDE, PASSWORD, Harness, default_policy

ACCOUNT, CUSTODIAN = IdentityKind.ACCOUNT, IdentityKind.CUSTODIAN
REASON = "Okta SSO settings broken, no admin can sign in"


def run(body: Callable[[Harness], Awaitable[None]], **kwargs: object) -> Harness:
    harness = Harness(**kwargs)  # type: ignore[arg-type]

    async def main() -> None:
        try:
            await body(harness)
        finally:
            await harness.aclose()

    asyncio.run(main())
    return harness


def test_the_whole_path_activation_lock_reset_rotation() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-7")
        assert request.state == "pending"
        assert [r.id for r in await h.service.activations.queue(alice)] == [request.id]
        first = await h.decide(alice, request.id)
        assert first.request.state == "pending"
        second = await h.decide(bob, request.id)
        assert second.request.state == "approved"
        assert [a.approver for a in second.request.approvals] == [
            "custodian:alice",
            "custodian:bob",
        ]
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        token = started.token.reveal()
        assert token.startswith("ggbg_")
        assert "HttpOnly" in started.cookie.attributes
        assert "SameSite=Strict" in started.cookie.attributes
        assert started.session.scope == ("okta-admin",)
        session = await h.service.sessions.check(token, ALLOWED)
        await h.service.sessions.note_use(session.id, succeeded=True, drill_route=False)
        # the account is locked now: no second sign-in, no second activation
        with pytest.raises(AccountLockedError):
            await h.sign_in("ops")
        ended = await h.service.sessions.end(alice, session.id)
        assert ended.state == "ended"
        with pytest.raises(SessionEndedError):
            await h.service.sessions.check(token, ALLOWED)
        (incident,) = await h.service.aftercare.incidents(open_only=True)
        assert incident.incident_ref == "INC-7"
        assert await h.service.aftercare.incident(incident.id) == incident
        # quorum reset -> one-time link to the custodian who completed it -> rotation
        reset = await h.service.activations.open_reset("ops", "operator:root", "rotate after use")
        assert (await h.decide(alice, reset.id)).reset_link is None
        done = await h.decide(bob, reset.id)
        assert done.reset_link is not None
        old_device = h.devices["ops"]
        old_device.ignore_allow_list = True
        new_device = SoftAuthenticator(ORIGIN)
        new_password = "a brand new passphrase 42"
        await h.enrol_with(done.reset_link.token.reveal(), new_device, new_password)
        h.devices["ops"] = new_device
        await h.sign_in("ops", password=new_password)
        with pytest.raises(AuthenticationFailedError):  # the old key is retired
            await h.sign_in("ops", password=new_password, device=old_device)
        with pytest.raises(AuthenticationFailedError):  # the old password too
            await h.sign_in("ops", password=PASSWORD)
        closed = await h.service.aftercare.close_incident(incident.id, "cli:root", "restored SSO")
        assert closed.state == "closed"

    h = run(body)
    kinds = h.sink.kinds()
    for kind in (
        "breakglass.activation.requested",
        "breakglass.activation.approved",
        "breakglass.activation.quorum-met",
        "breakglass.activation.activated",
        "breakglass.session.first-use",
        "breakglass.session.ended",
        "breakglass.reset.requested",
        "breakglass.reset.link-issued",
    ):
        assert kind in kinds
    types = [t for t, outcome in h.types() if outcome == "ok"]
    assert types.index("breakglass.activation.activated") < types.index("breakglass.session.ended")
    assert "breakglass.incident.opened" in types
    assert "breakglass.identity.rotated" in types
    bodies = b"".join(r.body for r in h.records(""))
    assert PASSWORD.encode() not in bodies
    assert b"ggbg_" not in bodies


def test_sign_in_needs_both_factors_from_an_allowed_address() -> None:
    async def body(h: Harness) -> None:
        await h.team()
        stranger = SoftAuthenticator(ORIGIN)
        h.devices["ops"].ignore_allow_list = True  # answers even the decoy options
        cases = {
            "outside-address": h.sign_in("ops", address=OUTSIDE),
            "password-only-wrong-key": h.sign_in("ops", device=stranger),
            "wrong-password": h.sign_in("ops", password="not the password at all"),
            "unknown-name": h.sign_in("nobody", device=stranger),
        }
        for case, attempt in cases.items():
            with pytest.raises((AuthenticationFailedError, LookupError)) as refused:
                await attempt
            if isinstance(refused.value, AuthenticationFailedError):
                assert str(refused.value).startswith("sign-in failed"), case
        # key only: a valid assertion but no (empty) password
        with pytest.raises(AuthenticationFailedError):
            await h.sign_in("ops", password="")

    h = run(body)
    refusals = [r.details.get("detail") for r in h.records() if r.outcome == "refused"]
    assert "network-denied" in refusals
    assert "password-mismatch" in refusals


def test_replayed_sign_in_assertion_is_refused() -> None:
    async def body(h: Harness) -> None:
        await h.enrol(ACCOUNT, "ops")
        options = await h.service.sign_in.begin("ops", ALLOWED)
        assertion = h.devices["ops"].get(options.public_key)
        await h.service.sign_in.finish(
            "ops", _s(PASSWORD), options.challenge_id, assertion, ALLOWED
        )
        with pytest.raises(AuthenticationFailedError) as refused:
            await h.service.sign_in.finish(
                "ops", _s(PASSWORD), options.challenge_id, assertion, ALLOWED
            )
        assert refused.value.detail == "challenge-replayed"

    run(body)


def test_approval_refusals() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice = team["ops"], team["alice"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        with pytest.raises(ActionForbiddenError):  # the requester is no custodian
            await h.service.activations.begin_decision(ops, request.id, Decision.APPROVE)
        await h.decide(alice, request.id)
        with pytest.raises(ApprovalRefusedError) as twice:
            await h.decide(alice, request.id)
        assert twice.value.reason == "already-approved"
        with pytest.raises(QuorumNotMetError):  # one approval of two
            await h.service.sessions.activate(ops, request.id, ALLOWED)

    run(body)


def test_replayed_and_cross_request_assertions_fail() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        first = await h.service.activations.request(ops, REASON, "INC-1")
        options = await h.service.activations.begin_decision(alice, first.id, Decision.APPROVE)
        assertion = h.devices["alice"].get(options.public_key)
        await h.service.activations.decide(
            alice, first.id, Decision.APPROVE, options.challenge_id, assertion
        )
        with pytest.raises(AuthenticationFailedError) as replayed:
            await h.service.activations.decide(
                alice, first.id, Decision.APPROVE, options.challenge_id, assertion
            )
        assert replayed.value.detail == "challenge-replayed"
        # bob's assertion for "deny" does not approve; nor does it work for another request
        deny = await h.service.activations.begin_decision(bob, first.id, Decision.DENY)
        signed = h.devices["bob"].get(deny.public_key)
        with pytest.raises(AuthenticationFailedError) as crossed:
            await h.service.activations.decide(
                bob, first.id, Decision.APPROVE, deny.challenge_id, signed
            )
        assert crossed.value.detail == "challenge-mismatch"
        other = await h.service.activations.begin_decision(bob, first.id, Decision.APPROVE)
        signed = h.devices["bob"].get(other.public_key)
        await h.service.activations.cancel(ops, first.id)
        second = await h.service.activations.request(ops, REASON, "INC-2")
        with pytest.raises(AuthenticationFailedError) as elsewhere:
            await h.service.activations.decide(
                bob, second.id, Decision.APPROVE, other.challenge_id, signed
            )
        assert elsewhere.value.detail == "challenge-mismatch"
        # alice signing with bob's challenge: a challenge is bound to its custodian
        mine = await h.service.activations.begin_decision(bob, second.id, Decision.APPROVE)
        with pytest.raises(AuthenticationFailedError):
            await h.service.activations.decide(
                alice, second.id, Decision.APPROVE, mine.challenge_id, signed
            )

    run(body)


def test_self_approval_is_refused_even_for_a_custodian_requester() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        reset = await h.service.activations.open_reset("ops", "custodian:alice", "rotate")
        with pytest.raises(ApprovalRefusedError) as refused:
            await h.decide(team["alice"], reset.id)
        assert refused.value.reason == "self-approval"

    run(body)


def test_expired_request_and_expired_session() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        h.clock.advance(h.policy.request_ttl + 1)
        with pytest.raises(InvalidTransitionError):
            await h.service.activations.begin_decision(alice, request.id, Decision.APPROVE)
        assert await h.service.sessions.sweep() == 1
        assert (await h.service.activations.show(alice, request.id)).state == "expired"
        ops = await h.sign_in("ops")
        alice = await h.sign_in("alice")
        bob = await h.sign_in("bob")
        request = await h.service.activations.request(ops, REASON, "INC-2")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        h.clock.advance(h.policy.session_ttl)
        with pytest.raises(SessionEndedError):
            await h.service.sessions.check(started.token.reveal(), ALLOWED)
        assert await h.service.sessions.sweep() == 1
        with pytest.raises(InvalidTransitionError):
            await h.service.sessions.end(alice, started.session.id)

    h = run(body)
    assert "breakglass.session.expired" in h.sink.kinds()


def test_session_is_bound_to_its_address_and_activation_to_allowed_networks() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        with pytest.raises(ActionForbiddenError):
            await h.service.sessions.activate(ops, request.id, OUTSIDE)
        with pytest.raises(Exception):  # noqa: PT011 - not the requester: not found
            await h.service.sessions.activate(alice, request.id, ALLOWED)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        with pytest.raises(SessionAddressError):
            await h.service.sessions.check(started.token.reveal(), OUTSIDE)
        with pytest.raises(AccountLockedError):  # once only: activate while locked
            await h.service.sessions.activate(ops, request.id, ALLOWED)

    run(body)


def test_required_alert_unreachable_refuses_activation() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        h.sink.down = True
        with pytest.raises(AlertDeliveryError):
            await h.service.sessions.activate(ops, request.id, ALLOWED)
        assert await h.service.sessions.active(alice) == []
        assert await h.service.aftercare.incidents() == []
        await h.sign_in("ops")  # not locked: nothing happened
        h.sink.down = False
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        assert started.session.state == "active"

    h = run(body)
    assert ("breakglass.activation.activated", "refused") in h.types()


def test_enrolment_links_expire_and_work_once() -> None:
    async def body(h: Harness) -> None:
        link = await h.service.enrolment.create(CUSTODIAN, "alice", "cli:root")
        token = link.token.reveal()
        await h.enrol_with(token, SoftAuthenticator(ORIGIN), PASSWORD)
        with pytest.raises(LinkInvalidError):  # reused
            await h.service.enrolment.begin(token)
        late = await h.service.enrolment.create(CUSTODIAN, "bob", "cli:root")
        h.clock.advance(3600)
        with pytest.raises(LinkInvalidError):  # expired
            await h.service.enrolment.begin(late.token.reveal())
        fresh = await h.service.enrolment.create(CUSTODIAN, "bob", "cli:root")  # re-issue
        with pytest.raises(InvalidTransitionError):  # alice exists: reset, not create
            await h.service.enrolment.create(CUSTODIAN, "alice", "cli:root")
        with pytest.raises(WorkflowInputError, match=r"breakglass\.custodians"):
            await h.service.enrolment.create(CUSTODIAN, "mallory", "cli:root")
        with pytest.raises(WorkflowInputError):  # a password too short
            await h.enrol_with(fresh.token.reveal(), SoftAuthenticator(ORIGIN), "short")

    run(body)


def test_reset_link_expires_and_rotation_needs_a_new_password() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        reset = await h.service.activations.open_reset("ops", "operator:root", "rotate")
        with pytest.raises(NotFoundError):  # a reset is not the account's own request
            await h.service.sessions.activate(team["ops"], reset.id, ALLOWED)
        await h.decide(team["alice"], reset.id)
        link = (await h.decide(team["bob"], reset.id)).reset_link
        assert link is not None
        token = link.token.reveal()
        with pytest.raises(WorkflowInputError, match="new password"):
            await h.enrol_with(token, SoftAuthenticator(ORIGIN), PASSWORD)
        h.clock.advance(3600)
        with pytest.raises(LinkInvalidError):
            await h.enrol_with(token, SoftAuthenticator(ORIGIN), "another passphrase 77")

    run(body)


def test_drill_uses_the_drill_route_and_does_not_lock() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        assert [o.account for o in await h.service.aftercare.overdue()] == ["ops"]
        request = await h.service.activations.request(ops, "quarterly drill", None, drill=True)
        assert request.scope == ("drill",)
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        h.clock.advance(5)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        assert started.session.drill
        h.clock.advance(3)
        await h.service.sessions.note_use(started.session.id, succeeded=True, drill_route=True)
        await h.service.sessions.end(ops, started.session.id)
        (drill,) = await h.service.aftercare.drills()
        assert drill.result == "passed"
        assert drill.time_to_access is not None
        assert drill.time_to_access > 0
        assert drill.first_seq is not None
        assert drill.last_seq is not None
        assert drill.first_seq < drill.last_seq
        assert [a.approver for a in drill.approvers] == ["custodian:alice", "custodian:bob"]
        assert await h.service.aftercare.overdue() == []
        assert await h.service.aftercare.incidents() == []
        await h.sign_in("ops")  # not locked

    h = run(body)
    assert "breakglass.drill.activated" in h.sink.kinds()


def test_ending_a_session_needs_a_custodian_or_the_requester() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        ended = await h.service.sessions.end(ops, started.session.id)
        assert ended.ended_by == "breakglass:ops"

    run(body)


def _s(text: str):  # type: ignore[no-untyped-def]
    from glassgate.types import Secret

    return Secret(text)


def test_sign_in_options_do_not_tell_who_exists() -> None:
    async def body(h: Harness) -> None:
        await h.enrol(ACCOUNT, "ops")
        real = await h.service.sign_in.begin("ops", ALLOWED)
        fake = await h.service.sign_in.begin("nobody", ALLOWED)
        again = await h.service.sign_in.begin("nobody", ALLOWED)
        outside = await h.service.sign_in.begin("ops", OUTSIDE)
        ids = [o.public_key["allowCredentials"][0]["id"] for o in (real, fake, again, outside)]
        assert all(len(i) == 43 for i in ids)
        assert ids[1] == ids[2]  # stable per name: asking twice reveals nothing
        assert ids[0] != ids[3]  # outside the networks: a decoy, not the real key
        for options in (real, fake):
            assert options.public_key["userVerification"] == "required"

    run(body)


def test_removing_an_account_from_the_policy_stops_its_session() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        request = await h.service.activations.request(ops, REASON, "INC-1")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        reloaded = Harness(policy=default_policy(accounts={}), store=h.store, clock=h.clock)
        with pytest.raises(SessionEndedError, match="no longer configured"):
            await reloaded.service.sessions.check(started.token.reveal(), ALLOWED)
        await reloaded.audit.close()
        reloaded.runner.close()

    run(body)


def test_refusals_of_the_request_side() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice = team["ops"], team["alice"]
        acts = h.service.activations
        with pytest.raises(NotFoundError):
            await acts.show(alice, "R-nope")
        with pytest.raises(ActionForbiddenError):
            await acts.request(alice, REASON, "INC-1")  # a custodian is no requester
        first = await acts.request(ops, REASON, "INC-1")
        with pytest.raises(InvalidTransitionError, match="already has open request"):
            await acts.request(ops, REASON, "INC-2")
        assert (await acts.show(ops, first.id)).id == first.id  # the account sees its own
        assert [r.id for r in await acts.mine(ops)] == [first.id]
        assert await acts.mine(alice) == []
        with pytest.raises(NotFoundError):
            await acts.open_reset("ghost", "operator:root", "rotate")
        with pytest.raises(NotFoundError):
            await h.service.aftercare.incident("I-nope")
        with pytest.raises(NotFoundError):
            await h.service.aftercare.close_incident("I-nope", "cli:root", "notes")
        with pytest.raises(NotFoundError):
            await h.service.aftercare.facts("R-nope")
        request, session, incident = await h.service.aftercare.facts(first.id)
        assert (request.id, session, incident) == (first.id, None, None)

    run(body)


def test_drills_need_a_drill_route() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        with pytest.raises(WorkflowInputError, match="drill_route"):
            await h.service.activations.request(team["ops"], "drill", None, drill=True)

    run(body, policy=default_policy(drill_route=None))


def test_refusals_of_the_session_side() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ops, alice, bob = team["ops"], team["alice"], team["bob"]
        sessions = h.service.sessions
        with pytest.raises(NotFoundError):
            await sessions.show(alice, "nope")
        reset = await h.service.activations.open_reset("ops", ops.ref, "rotate")
        with pytest.raises(ActionForbiddenError, match="reset"):
            await sessions.activate(ops, reset.id, ALLOWED)
        await h.service.activations.cancel(ops, reset.id)
        ghost = replace(ops, ref="breakglass:ghost", name="ghost")
        request = await h.service.activations.request(ops, REASON, "INC-1")
        await h.decide(alice, request.id)
        await h.decide(bob, request.id)
        started = await sessions.activate(ops, request.id, ALLOWED)
        other = replace(ops, ref="breakglass:dr", name="dr")
        with pytest.raises(NotFoundError):
            await sessions.show(other, started.session.id)  # another account cannot see it
        assert (await sessions.show(alice, started.session.id)).state == "active"
        assert await sessions.sweep() == 0  # still live
        with pytest.raises(SessionEndedError):
            await sessions.check("not-a-token", ALLOWED)
        with pytest.raises(SessionEndedError):
            await sessions.check("ggbg_0123456789abcdef_secret", ALLOWED)
        with pytest.raises(NotFoundError):
            await sessions.activate(ghost, request.id, ALLOWED)

    run(body)


def test_an_unenrolled_requester_cannot_activate() -> None:
    async def body(h: Harness) -> None:
        team = await h.team()
        ghost = replace(team["ops"], ref="breakglass:ghost", name="ghost")
        request = await h.service.activations.request(ghost, REASON, "INC-1")
        await h.decide(team["alice"], request.id)
        await h.decide(team["bob"], request.id)
        with pytest.raises(NotFoundError, match="no identity"):
            await h.service.sessions.activate(ghost, request.id, ALLOWED)

    policy = default_policy(
        accounts={
            "ops": AccountPolicy("ops", (ip_network("10.0.0.0/24"),)),
            "ghost": AccountPolicy("ghost", (ip_network("10.0.0.0/24"),)),
        }
    )
    run(body, policy=policy)


def test_concurrent_uses_are_counted_again() -> None:
    class Flaky(MemoryWorkflowStore):
        fail = 0

        def commit(self, writes):  # type: ignore[no-untyped-def]
            if self.fail and any(w.kind == "bg-session" and w.version > 1 for w in writes):
                self.fail -= 1
                raise ConcurrentChangeError("someone else was faster")
            super().commit(writes)

    store = Flaky()

    async def body(h: Harness) -> None:
        team = await h.team()
        ops = team["ops"]
        request = await h.service.activations.request(ops, "drill", None, drill=True)
        await h.decide(team["alice"], request.id)
        await h.decide(team["bob"], request.id)
        started = await h.service.sessions.activate(ops, request.id, ALLOWED)
        sid = started.session.id
        store.fail = 1
        await h.service.sessions.note_use(sid, succeeded=True, drill_route=True)
        await h.service.sessions.note_use(sid, succeeded=True, drill_route=True)  # no more news
        store.fail = 5
        with pytest.raises(ConcurrentChangeError):
            await h.service.sessions.note_use(sid, succeeded=True, drill_route=True)
        store.fail = 0
        del store._records[("bg-drill", request.id)]  # evidence gone: the use still counts
        await h.service.sessions.note_use(sid, succeeded=True, drill_route=True)
        assert (await h.service.sessions.show(ops, sid)).uses == 3

    run(body, store=store)


def test_console_sessions_and_unknown_names() -> None:
    async def body(h: Harness) -> None:
        await h.enrol(ACCOUNT, "ops")
        options = await h.service.sign_in.begin("ops", ALLOWED)
        signed = await h.service.sign_in.finish(
            "ops",
            _s(PASSWORD),
            options.challenge_id,
            h.devices["ops"].get(options.public_key),
            ALLOWED,
        )
        token = signed.token.reveal()
        assert (await h.service.sign_in.actor(token, ALLOWED)).ref == "breakglass:ops"
        with pytest.raises(AuthenticationFailedError):
            await h.service.sign_in.actor(token, OUTSIDE)
        with pytest.raises(AuthenticationFailedError):
            await h.service.sign_in.actor("not-a-console-token", ALLOWED)
        with pytest.raises(AuthenticationFailedError):
            await h.service.sign_in.actor("ggcs_0123456789abcdef_x", ALLOWED)
        await h.service.sign_in.sign_out(token, ALLOWED)
        with pytest.raises(AuthenticationFailedError):
            await h.service.sign_in.actor(token, ALLOWED)
        with pytest.raises(AuthenticationFailedError) as unknown:
            await h.service.sign_in.finish("ops", _s(PASSWORD), "no-such-challenge", {}, ALLOWED)
        assert unknown.value.detail == "challenge-unknown"
        attacker = SoftAuthenticator(ORIGIN)
        attacker.create({"rp": {"id": "localhost"}, "user": {"id": "AA"}, "challenge": "AA"})
        attacker.ignore_allow_list = True
        options = await h.service.sign_in.begin("nobody", ALLOWED)
        with pytest.raises(AuthenticationFailedError) as nobody:
            await h.service.sign_in.finish(
                "nobody",
                _s(PASSWORD),
                options.challenge_id,
                attacker.get(options.public_key),
                ALLOWED,
            )
        assert nobody.value.detail == "identity-unknown"

    run(body)


def test_enrolment_refusals() -> None:
    async def body(h: Harness) -> None:
        with pytest.raises(WorkflowInputError, match="lower-case"):
            await h.service.enrolment.create(CUSTODIAN, "Bad Name", "cli:root")
        with pytest.raises(LinkInvalidError):
            await h.service.enrolment.begin("no-such-token")
        orphan = issue_link(LinkPurpose.ENROL, "custodian:orphan", h.clock())
        await h.service.records.commit(Change(orphan.link))
        with pytest.raises(LinkInvalidError) as missing:
            await h.service.enrolment.begin(orphan.token.reveal())
        assert missing.value.detail == "link-identity-missing"

    run(body)


def test_refusals_are_refused_even_when_the_audit_log_is_down() -> None:
    class Broken(MemoryAuditStore):
        def append(self, events):  # type: ignore[no-untyped-def]
            raise StorageUnavailableError("disk full")

    async def body(h: Harness) -> None:
        with pytest.raises(AuthenticationFailedError):
            await h.service.sign_in.finish("ops", _s(PASSWORD), "nope", {}, ALLOWED)

    run(body, audit_store=Broken())
