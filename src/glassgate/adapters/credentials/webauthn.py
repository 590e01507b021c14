"""WebAuthn ceremonies around py_webauthn (``webauthn``): registration and authentication.

User verification is required in the options *and* checked on the response
(a key that only proves presence is refused). Attestation is ``none``: both
passkeys and roaming security keys enrol; we trust the key, not its maker.
Challenges are made by ``workflows.challenges`` (bound to what they
authorise); this module only checks that the response signs over exactly
that challenge, for our RP id and origins, with a known key whose counter
moves forward.

Options come back as JSON-ready dicts (``options_to_json_dict``): the
browser passes them to ``PublicKeyCredential.parseCreationOptionsFromJSON``
/ ``parseRequestOptionsFromJSON``, and posts ``credential.toJSON()`` back.
Every failure of a response, however malformed, is an
``AuthenticationFailedError`` with a ``detail`` for the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from glassgate.errors import AuthenticationFailedError
from glassgate.workflows.keys import WebAuthnKey

__all__ = ["MAX_RESPONSE_BYTES", "RelyingParty", "WebAuthnCeremonies"]

MAX_RESPONSE_BYTES = 64 * 1024
_TIMEOUT_MS = 120_000
# Whatever a hostile response makes the library (or its CBOR/ASN.1 parsers) raise.
_RESPONSE_ERRORS = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """``id`` is the registrable domain (``localhost`` in tests); ``origins`` the console's."""

    id: str
    name: str
    origins: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.id or not self.origins:
            raise ValueError("a WebAuthn relying party needs an id and at least one origin")


def _user_handle(identity: str) -> bytes:
    """Stable and opaque: the authenticator stores it, and it reveals no name."""
    return hashlib.sha256(b"glassgate-user\x00" + identity.encode("utf-8")).digest()[:32]


def _response(raw: str | Mapping[str, Any]) -> str:
    """The browser's ``credential.toJSON()`` as text, size-capped before any parsing."""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if len(text) > MAX_RESPONSE_BYTES:
        raise AuthenticationFailedError("key-response-too-large")
    return text


class WebAuthnCeremonies:
    def __init__(self, relying_party: RelyingParty) -> None:
        self._rp = relying_party

    def registration_options(
        self, identity: str, display_name: str, challenge: bytes, existing: Sequence[WebAuthnKey]
    ) -> dict[str, Any]:
        options = generate_registration_options(
            rp_id=self._rp.id,
            rp_name=self._rp.name,
            user_name=display_name,
            user_id=_user_handle(identity),
            user_display_name=display_name,
            challenge=challenge,
            timeout=_TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[_descriptor(key) for key in existing],
        )
        return options_to_json_dict(options)

    def verify_registration(
        self, identity: str, response: str | Mapping[str, Any], challenge: bytes, now: float
    ) -> WebAuthnKey:
        try:
            verified = verify_registration_response(
                credential=_response(response),
                expected_challenge=challenge,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                require_user_verification=True,
            )
        except _RESPONSE_ERRORS:
            raise AuthenticationFailedError("key-registration-invalid") from None
        return WebAuthnKey(
            credential_id=bytes_to_base64url(verified.credential_id),
            identity=identity,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            created_at=now,
            aaguid=verified.aaguid,
            device_type=verified.credential_device_type.value,
            backed_up=verified.credential_backed_up,
        )

    def authentication_options(
        self, challenge: bytes, keys: Sequence[WebAuthnKey]
    ) -> dict[str, Any]:
        options = generate_authentication_options(
            rp_id=self._rp.id,
            challenge=challenge,
            timeout=_TIMEOUT_MS,
            allow_credentials=[_descriptor(key) for key in keys],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return options_to_json_dict(options)

    def verify_authentication(
        self,
        response: str | Mapping[str, Any],
        challenge: bytes,
        keys: Sequence[WebAuthnKey],
    ) -> tuple[WebAuthnKey, int]:
        """The key that signed and its new sign count; refused unless one of ``keys`` did."""
        text = _response(response)
        try:
            credential = parse_authentication_credential_json(text)
        except _RESPONSE_ERRORS:
            raise AuthenticationFailedError("key-response-malformed") from None
        key = _find(keys, bytes_to_base64url(credential.raw_id))
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
                require_user_verification=True,
            )
        except _RESPONSE_ERRORS:
            raise AuthenticationFailedError("key-assertion-invalid") from None
        return key, verified.new_sign_count


def _find(keys: Sequence[WebAuthnKey], credential_id: str) -> WebAuthnKey:
    for key in keys:
        if key.credential_id == credential_id:
            return key
    raise AuthenticationFailedError("key-unknown")


def _descriptor(key: WebAuthnKey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id))
