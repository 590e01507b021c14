"""The demo's break-glass path: one account, two custodians, their one-time enrolment links.

Once the gateway is ready, the demo creates ``demo-admin`` (the break-glass
account) and the custodians ``demo-alice`` and ``demo-bob`` through the same
service the CLI uses, and prints each one's enrolment link on the console, so
a person can walk the whole path with a platform passkey or a security key:
enrol three identities, sign in as the account, request, approve as both
custodians, start the session and call the recovery route through the
gateway (where the sealed stand-in IdP token is added, and never shown).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from glassgate.demo.config import BREAKGLASS_ACCOUNT, CUSTODIANS, sealed_file
from glassgate.ports import BreakglassSource
from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.links import link_url

__all__ = ["EnrolmentLink", "enrolment_links", "write_sealed_credential"]

OPERATOR = "demo"


@dataclass(frozen=True, slots=True)
class EnrolmentLink:
    role: str
    name: str
    url: str  # a one-time link: it works once, for one hour


def write_sealed_credential(state_dir: str) -> None:
    """A random stand-in for an IdP admin token (Okta's ``SSWS``), readable by us only."""
    path = Path(sealed_file(state_dir))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as sealed:
        sealed.write(f"demo-idp-admin-{secrets.token_urlsafe(18)}")


async def enrolment_links(source: BreakglassSource, origin: str) -> tuple[EnrolmentLink, ...]:
    service = source.breakglass_service()
    if service is None:
        return ()
    who = [
        ("break-glass account", IdentityKind.ACCOUNT, BREAKGLASS_ACCOUNT),
        *(("custodian", IdentityKind.CUSTODIAN, name) for name in CUSTODIANS),
    ]
    links = []
    for role, kind, name in who:
        issued = await service.enrolment.create(kind, name, OPERATOR)
        links.append(EnrolmentLink(role, name, link_url(origin, "enrol", issued.token.reveal())))
    return tuple(links)
