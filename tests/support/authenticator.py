"""A software FIDO2 authenticator for tests: ES256, ``fmt: none``, with the UV flag.

Built on ``cryptography`` and ``cbor2`` only (RECIPES.md section 1). It answers
the options glassgate hands a browser (``options_to_json_dict``) with exactly
what ``credential.toJSON()`` would post back. One instance is one person's
key; it holds its credentials by RP id.

Knobs for negative tests: ``user_verified=False`` (presence only),
``counter_step=0`` (a synced passkey whose counter stays 0), ``origin`` (the
page it believes it is on), ``rewind`` to send a stale counter,
``ignore_allow_list`` to sign with a key the server did not ask for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftAuthenticator"]

_UP, _UV, _AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class _Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    def __init__(
        self,
        origin: str = "http://localhost:8081",
        *,
        user_verified: bool = True,
        counter_step: int = 1,
    ) -> None:
        self.origin = origin
        self.user_verified = user_verified
        self.counter_step = counter_step
        self.ignore_allow_list = False  # sign with a held key even if not allowed (an attacker)
        self.credentials: dict[str, _Credential] = {}  # by base64url credential id
        self.aaguid = os.urandom(16)

    def _flags(self) -> int:
        return _UP | (_UV if self.user_verified else 0)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """``navigator.credentials.create``: a new ES256 key for ``options['rp']['id']``."""
        key = ec.generate_private_key(ec.SECP256R1())
        credential = _Credential(os.urandom(32), key, unb64u(options["user"]["id"]))
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        credential.sign_count = self.counter_step and 1
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        auth_data = (
            rp_hash
            + bytes([self._flags() | _AT])
            + struct.pack(">I", credential.sign_count)
            + self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cid = b64u(credential.credential_id)
        self.credentials[cid] = credential
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64u(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64u(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    def get(self, options: dict[str, Any], *, rewind: bool = False) -> dict[str, Any]:
        """``navigator.credentials.get``: an assertion with the first allowed key we hold."""
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        cid = next((c for c in allowed if c in self.credentials), None)
        if cid is None:
            if (allowed and not self.ignore_allow_list) or not self.credentials:
                raise LookupError("this authenticator holds none of the allowed credentials")
            cid = next(iter(self.credentials))
        credential = self.credentials[cid]
        if not rewind:
            credential.sign_count += self.counter_step
        rp_hash = hashlib.sha256(options["rpId"].encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", credential.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(credential.user_handle),
            },
            "clientExtensionResults": {},
        }
