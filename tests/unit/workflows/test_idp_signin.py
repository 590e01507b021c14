"""The console's IdP sign-in flow with a fake IdP client: state, binding, replay, nonce,
the session it opens, sign-out, and audit before the session is saved."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from glassgate.adapters.storage.workflows.memory import MemoryWorkflowStore
from glassgate.errors import AuditUnavailableError, AuthenticationFailedError
from glassgate.tokens.id_tokens import IdTokenVerifier
from glassgate.workflows.idp_signin import IdpSignIn
from glassgate.workflows.records import Records
from tests.support.tokens import ISSUER, NOW, forge, policy, rings
from tests.unit.directory._fakes import RecordingAudit
from tests.unit.workflows.test_grant_service import Clock, DirectRunner


class FakeIdp:
    """Hands out one code per authorization; the ID token carries what the test says."""

    def __init__(self) -> None:
        self.nonce = ""
        self.verifiers: list[str] = []
        self.claims: dict[str, Any] = {}

    async def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        self.nonce = nonce
        return f"https://idp.example/auth?state={state}"

    async def exchange(self, code: str, verifier: str) -> str:
        if code != "good-code":
            raise AuthenticationFailedError("code-refused:invalid_grant")
        self.verifiers.append(verifier)
        claims = {
            "iss": ISSUER, "aud": "console", "sub": "alice", "iat": NOW - 1, "exp": NOW + 600,
            "auth_time": NOW - 1, "nonce": self.nonce, "groups": ["Engineers"],
            "amr": ["pwd", "mfa"], **self.claims,
        }  # fmt: skip
        return forge({"alg": "RS256", "kid": "rsa-1"}, claims)


def build() -> tuple[IdpSignIn, FakeIdp, RecordingAudit, Clock]:
    idp, audit, clock = FakeIdp(), RecordingAudit(), Clock()
    clock.now = float(NOW)
    records = Records(MemoryWorkflowStore(), DirectRunner())  # type: ignore[arg-type]
    verifier = IdTokenVerifier(policy(), "console")
    service = IdpSignIn(idp, verifier, rings, records, audit, clock, 3600.0)
    return service, idp, audit, clock


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _state(url: str) -> str:
    return url.split("state=", 1)[1]


def test_a_sign_in_opens_a_session_until_sign_out() -> None:
    service, idp, audit, _clock = build()
    start = run(service.begin())
    state = _state(start.url)
    session, token = run(service.finish(state, "good-code", start.binding.reveal()))
    assert (session.subject, session.issuer) == ("alice", ISSUER)
    assert session.groups == {"Engineers"}
    assert session.amr == {"pwd", "mfa"}
    assert "alice" in repr(session)
    assert "verifier" not in repr(run(_login(service, state)))
    assert len(idp.verifiers[0]) >= 43  # RFC 7636: 43-128 characters
    found = run(service.session(token.reveal()))
    principal = found.principal()
    assert principal.auth_time == NOW - 1
    assert principal.groups == {"Engineers"}
    assert [e.type for e in audit.events] == ["console.idp.signed-in"]
    run(service.sign_out(token.reveal()))
    run(service.sign_out(token.reveal()))  # twice: nothing more happens
    assert [e.type for e in audit.events][-1] == "console.idp.signed-out"
    assert len(audit.events) == 2
    with pytest.raises(AuthenticationFailedError):
        run(service.session(token.reveal()))


async def _login(service: IdpSignIn, state: str) -> Any:
    from glassgate.workflows.idp_sessions import IdpLogin

    found = await service._records.get(IdpLogin, state)
    assert found is not None
    return found.value


@pytest.mark.parametrize(
    ("state", "code", "binding", "detail"),
    [
        pytest.param("", "good-code", "ok", "state-or-code-missing", id="case=no-state"),
        pytest.param("S", "", "ok", "state-or-code-missing", id="case=no-code"),
        pytest.param("unknown", "good-code", "ok", "state-unknown", id="case=unknown-state"),
        pytest.param("S", "good-code", None, "state-not-bound-to-this-browser",
                     id="case=no-binding"),
        pytest.param("S", "good-code", "another-browser", "state-not-bound-to-this-browser",
                     id="case=foreign-binding"),
        pytest.param("S", "bad-code", "ok", "code-refused:invalid_grant", id="case=bad-code"),
    ],
)  # fmt: skip
def test_bad_callbacks_are_refused_and_audited(
    state: str, code: str, binding: str | None, detail: str
) -> None:
    service, _, audit, _ = build()
    start = run(service.begin())
    real = _state(start.url)
    bind = start.binding.reveal() if binding == "ok" else binding
    with pytest.raises(AuthenticationFailedError) as refused:
        run(service.finish(real if state == "S" else state, code, bind))
    assert refused.value.detail == detail
    assert [(e.type, e.outcome) for e in audit.events] == [("console.idp.signed-in", "refused")]


def test_a_replayed_or_late_callback_is_refused() -> None:
    service, _, _, clock = build()
    start = run(service.begin())
    state, binding = _state(start.url), start.binding.reveal()
    run(service.finish(state, "good-code", binding))
    with pytest.raises(AuthenticationFailedError, match="sign-in failed"):
        run(service.finish(state, "good-code", binding))
    late = run(service.begin())
    clock.now += 601
    with pytest.raises(AuthenticationFailedError) as refused:
        run(service.finish(_state(late.url), "good-code", late.binding.reveal()))
    assert refused.value.detail == "state-used-or-expired"


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"nonce": "from-another-sign-in"}, id="case=nonce-mismatch"),
        pytest.param({"aud": "console-other"}, id="case=another-client"),
    ],
)
def test_a_bad_id_token_is_refused(claims: dict[str, Any]) -> None:
    service, idp, audit, _ = build()
    idp.claims = claims
    start = run(service.begin())
    with pytest.raises(AuthenticationFailedError):
        run(service.finish(_state(start.url), "good-code", start.binding.reveal()))
    assert audit.events[-1].outcome == "refused"


def test_no_session_without_the_audit_record() -> None:
    service, _, audit, _ = build()
    start = run(service.begin())
    audit.down = True
    with pytest.raises(AuditUnavailableError):
        run(service.finish(_state(start.url), "good-code", start.binding.reveal()))


@pytest.mark.parametrize("raw", ["", "ggid_nonsense", "ggid_0123456789abcdef_x", "other"])
def test_unknown_session_tokens_are_refused(raw: str) -> None:
    service, _, _, _ = build()
    with pytest.raises(AuthenticationFailedError):
        run(service.session(raw))
    run(service.sign_out(raw))  # nothing to end: nothing happens


def test_a_session_token_with_a_wrong_secret_is_refused() -> None:
    service, _, audit, _ = build()
    start = run(service.begin())
    _, token = run(service.finish(_state(start.url), "good-code", start.binding.reveal()))
    forged = token.reveal()[:-4] + "AAAA"
    with pytest.raises(AuthenticationFailedError):
        run(service.session(forged))
    run(service.sign_out(forged))
    assert [e.type for e in audit.events] == ["console.idp.signed-in"]


def test_a_refusal_is_raised_even_when_its_audit_fails() -> None:
    service, _, audit, _ = build()
    audit.down = True
    with pytest.raises(AuthenticationFailedError):
        run(service.finish("unknown", "good-code", "x"))
