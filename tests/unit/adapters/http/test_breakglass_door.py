"""The data plane's break-glass parts: cookies in and out, sealed headers, guards, principals."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

import pytest

from glassgate.adapters.http.breakglass import BreakglassDoor, refuse_token
from glassgate.adapters.http.identity_out import forwardable
from glassgate.adapters.http.inbound import session_cookie
from glassgate.config.breakglass_compile import CompiledBreakglass, SealedCredential
from glassgate.core.body_guard import compile_body_guard
from glassgate.core.principal import CredentialKind, Principal
from glassgate.errors import BreakglassAddressError, BreakglassSessionOverError
from glassgate.types import Secret
from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.policy import AccountPolicy
from glassgate.workflows.requests import Decision
from tests.support.breakglass import ALLOWED, OUTSIDE, Harness, default_policy


@pytest.mark.parametrize(
    ("cookies", "found"),
    [
        ([b"a=1; gg_breakglass=ggbg_x_y; b=2"], "ggbg_x_y"),
        ([b"gg_breakglass=ggbg_x_y"], "ggbg_x_y"),
        ([b"gg_breakglass=eyJhbGciOi.eyJ.sig"], None),
        ([b"a=1"], None),
        ([b"gg_breakglass=one", b"gg_breakglass=two"], None),
        ([b"gg_breakglass=one; gg_breakglass=two"], None),
        ([b"xgg_breakglass=one"], None),
        ([b"gg_breakglass=\xff"], None),
    ],
)
def test_session_cookie(cookies: list[bytes], found: str | None) -> None:
    assert session_cookie([(b"cookie", value) for value in cookies]) == found


def test_our_cookie_never_goes_upstream() -> None:
    headers = [
        (b"cookie", b"a=1; gg_breakglass=ggbg_x_y; b=2"),
        (b"cookie", b"gg_breakglass=ggbg_x_y"),
        (b"accept", b"*/*"),
    ]
    assert forwardable(headers) == [(b"cookie", b"a=1; b=2"), (b"accept", b"*/*")]
    for value in (b"Bearer ggbg_x_y", b"ggbg_x_y", b"bearer\tGGBG_x_y junk"):
        assert forwardable([(b"authorization", value), (b"accept", b"*/*")]) == [
            (b"accept", b"*/*")
        ]
    jwt = [(b"authorization", b"Bearer eyJ.x.y"), (b"accept", b"*/*")]
    assert forwardable(jwt) == jwt
    # the console's cookies reach the data plane too (same host, another port)
    console = [(b"cookie", b"gg_console=ggcs_x_y; app=gg_not_ours; gg_csrf=t; sid=9")]
    assert forwardable(console) == [(b"cookie", b"app=gg_not_ours; sid=9")]


def _compiled(policy_kwargs: dict[str, object] | None = None) -> CompiledBreakglass:
    policy = default_policy(**(policy_kwargs or {}))
    return CompiledBreakglass(
        policy,
        {"okta-admin": SealedCredential(b"authorization", Secret("SSWS sealed-123"))},
        {"okta-admin": compile_body_guard("true", 100)},
        frozenset({"BreakGlass"}),
        "urn:glassgate:loa:breakglass",
        frozenset({"pwd", "hwk", "mfa"}),
    )


def _principal(kind: CredentialKind, scope: frozenset[str] | None) -> Principal:
    return Principal("s", "i", kind=kind, route_scope=scope)


def test_sealed_header_only_for_breakglass_on_its_route() -> None:
    harness = Harness()
    door = BreakglassDoor(_compiled(), harness.service.sessions, harness.audit)
    bg = _principal(CredentialKind.BREAKGLASS, frozenset({"okta-admin"}))
    assert door.sealed_header(bg, "okta-admin") == (b"authorization", b"SSWS sealed-123")
    assert door.sealed_header(bg, "other") is None
    assert door.sealed_header(bg, None) is None
    jwt = _principal(CredentialKind.JWT, None)
    assert door.sealed_header(jwt, "okta-admin") is None
    assert door.sealed_header(None, "okta-admin") is None
    drill = _principal(CredentialKind.BREAKGLASS, frozenset({"drill"}))
    assert door.sealed_header(drill, "okta-admin") is None
    assert door.guard(bg, "okta-admin") is not None
    assert door.guard(jwt, "okta-admin") is None
    assert "sealed-123" not in repr(_compiled())
    asyncio.run(harness.aclose())


def test_a_session_becomes_a_scoped_breakglass_principal() -> None:
    harness = Harness()

    async def body() -> None:
        h = harness
        team = await h.team()
        request = await h.service.activations.request(team["ops"], "restore SSO", "INC-9")
        await h.decide(team["alice"], request.id, Decision.APPROVE)
        await h.decide(team["bob"], request.id, Decision.APPROVE)
        started = await h.service.sessions.activate(team["ops"], request.id, ALLOWED)
        door = BreakglassDoor(_compiled(), h.service.sessions, h.audit)
        token = started.token.reveal()
        assert door.is_session_token(token)
        principal = await door.authenticate(token, ALLOWED)
        assert principal.kind is CredentialKind.BREAKGLASS
        assert principal.subject == "breakglass:ops"
        assert principal.route_scope == frozenset({"okta-admin"})
        assert principal.token_id == started.session.id
        assert principal.acr == "urn:glassgate:loa:breakglass"
        assert token not in repr(principal)
        with pytest.raises(BreakglassAddressError):
            await door.authenticate(token, OUTSIDE)
        await h.service.sessions.note_use(
            principal.token_id or "", succeeded=True, drill_route=False
        )
        await h.service.sessions.end(team["alice"], started.session.id)
        with pytest.raises(BreakglassSessionOverError):
            await door.authenticate(token, ALLOWED)
        await h.aclose()

    asyncio.run(body())
    assert "breakglass.session.first-use" in harness.sink.kinds()


def test_refuse_token_never_echoes_it() -> None:
    assert "ggbg_abcd" not in str(refuse_token("ggbg_abcdef_secret"))


def test_account_policy_networks() -> None:
    account = AccountPolicy("ops", (ip_network("10.0.0.0/24"),))
    assert account.allows(ALLOWED)
    assert not account.allows(OUTSIDE)
    assert IdentityKind.ACCOUNT.value == "breakglass"
