"""WebAuthn ceremonies with a software authenticator: UV required, counters, hostile input."""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import replace
from typing import Any

import pytest

from glassgate.adapters.credentials.webauthn import RelyingParty, WebAuthnCeremonies
from glassgate.errors import AuthenticationFailedError
from glassgate.workflows.keys import WebAuthnKey
from tests.support.authenticator import SoftAuthenticator, b64u, unb64u

ORIGIN = "http://localhost:8081"
RP = RelyingParty("localhost", "glassgate", (ORIGIN,))
CEREMONIES = WebAuthnCeremonies(RP)


def enrol(device: SoftAuthenticator, identity: str = "breakglass:ops") -> WebAuthnKey:
    challenge = secrets.token_bytes(32)
    options = CEREMONIES.registration_options(identity, "ops", challenge, [])
    return CEREMONIES.verify_registration(identity, device.create(options), challenge, 10.0)


def assert_with(
    device: SoftAuthenticator, keys: list[WebAuthnKey], **kwargs: Any
) -> tuple[WebAuthnKey, int]:
    challenge = secrets.token_bytes(32)
    options = CEREMONIES.authentication_options(challenge, keys)
    return CEREMONIES.verify_authentication(device.get(options, **kwargs), challenge, keys)


def test_registration_options_require_user_verification() -> None:
    options = CEREMONIES.registration_options("custodian:alice", "alice", b"c" * 32, [])
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["rp"] == {"id": "localhost", "name": "glassgate"}
    assert "alice" not in unb64u(options["user"]["id"]).decode("latin-1")


def test_register_then_authenticate_moves_the_counter() -> None:
    device = SoftAuthenticator(ORIGIN)
    key = enrol(device)
    assert key.identity == "breakglass:ops"
    assert key.sign_count == 1
    used, count = assert_with(device, [key])
    assert used == key
    assert count == 2


def test_passkey_with_a_zero_counter_is_accepted() -> None:
    device = SoftAuthenticator(ORIGIN, counter_step=0)
    key = enrol(device)
    assert key.sign_count == 0
    assert assert_with(device, [key])[1] == 0


def test_registration_without_user_verification_is_refused() -> None:
    with pytest.raises(AuthenticationFailedError) as refused:
        enrol(SoftAuthenticator(ORIGIN, user_verified=False))
    assert refused.value.detail == "key-registration-invalid"


def test_assertion_without_user_verification_is_refused() -> None:
    device = SoftAuthenticator(ORIGIN)
    key = enrol(device)
    device.user_verified = False
    with pytest.raises(AuthenticationFailedError, match="sign-in failed"):
        assert_with(device, [key])


def test_a_stale_counter_is_refused_as_a_cloned_key() -> None:
    device = SoftAuthenticator(ORIGIN)
    key = enrol(device)
    _, count = assert_with(device, [key])
    stored = replace(key, sign_count=count)
    with pytest.raises(AuthenticationFailedError) as refused:
        assert_with(device, [stored], rewind=True)
    assert refused.value.detail == "key-assertion-invalid"


def test_a_key_of_someone_else_is_unknown() -> None:
    mine, theirs = SoftAuthenticator(ORIGIN), SoftAuthenticator(ORIGIN)
    my_key = enrol(mine)
    enrol(theirs, "custodian:eve")
    challenge = secrets.token_bytes(32)
    options = CEREMONIES.authentication_options(challenge, [])  # no allow-list: any key
    with pytest.raises(AuthenticationFailedError) as refused:
        CEREMONIES.verify_authentication(theirs.get(options), challenge, [my_key])
    assert refused.value.detail == "key-unknown"


def test_wrong_challenge_and_wrong_origin_are_refused() -> None:
    device = SoftAuthenticator(ORIGIN)
    key = enrol(device)
    options = CEREMONIES.authentication_options(b"a" * 32, [key])
    response = device.get(options)
    with pytest.raises(AuthenticationFailedError):
        CEREMONIES.verify_authentication(response, b"b" * 32, [key])
    evil = SoftAuthenticator("https://evil.example")
    evil.credentials = device.credentials
    with pytest.raises(AuthenticationFailedError):
        CEREMONIES.verify_authentication(evil.get(options), b"a" * 32, [key])


def _hostile_responses(valid: dict[str, Any]) -> list[Any]:
    broken_sig = copy.deepcopy(valid)
    broken_sig["response"]["signature"] = b64u(b"\x30\x02\x00\x00")
    missing = copy.deepcopy(valid)
    del missing["response"]["authenticatorData"]
    bad_b64 = copy.deepcopy(valid)
    bad_b64["response"]["clientDataJSON"] = "%%%not-base64%%%"
    bad_client = copy.deepcopy(valid)
    bad_client["response"]["clientDataJSON"] = b64u(b'{"type": 7}')
    short_auth = copy.deepcopy(valid)
    short_auth["response"]["authenticatorData"] = b64u(b"\x00" * 5)
    return [
        "",
        "not json",
        "[]",
        json.dumps({"id": 1}),
        {"id": valid["id"]},
        broken_sig,
        missing,
        bad_b64,
        bad_client,
        short_auth,
        "x" * (70 * 1024),
    ]


def test_hostile_assertions_are_authentication_failures_never_crashes() -> None:
    device = SoftAuthenticator(ORIGIN)
    key = enrol(device)
    challenge = secrets.token_bytes(32)
    valid = device.get(CEREMONIES.authentication_options(challenge, [key]))
    for response in _hostile_responses(valid):
        with pytest.raises(AuthenticationFailedError):
            CEREMONIES.verify_authentication(response, challenge, [key])


def test_hostile_registrations_are_authentication_failures() -> None:
    device = SoftAuthenticator(ORIGIN)
    challenge = secrets.token_bytes(32)
    valid = device.create(CEREMONIES.registration_options("x:y", "y", challenge, []))
    bad_att = copy.deepcopy(valid)
    bad_att["response"]["attestationObject"] = b64u(b"\xff\x00")
    for response in ["", "{}", "[1]", bad_att, "y" * (70 * 1024)]:
        with pytest.raises(AuthenticationFailedError):
            CEREMONIES.verify_registration("x:y", response, challenge, 0.0)


def test_relying_party_needs_an_origin() -> None:
    with pytest.raises(ValueError, match="origin"):
        RelyingParty("localhost", "x", ())
