"""Headless Debian Chromium driven by Python Playwright, one virtual authenticator per person.

The recipe (RECIPES.md section 2): the system browser at ``/usr/bin/chromium``
(never ``playwright install``: it downloads a browser and fails here), the
flags below, origin ``http://localhost:PORT`` (``127.0.0.1`` is not a valid
WebAuthn RP id; ``localhost`` is a secure context, so ``Secure`` cookies and
WebAuthn both work over plain HTTP).

Each ``Person`` is one browser context (its own cookies) with one page and one
CDP virtual authenticator (its own keys: a CTAP2 USB key with resident keys and
user verification, presence simulated). The authenticator belongs to the page,
so a person keeps to their one page. ``person.credentials()`` reads the keys
back with their sign counts; ``person.user_verified(False)`` makes the next
ceremony fail in the browser, as a key whose PIN was not given would.

``browser`` (module scope) launches Chromium once per test module; ``people``
closes every context a test opened. Without chromium or the playwright package
the tests are skipped, or fail when ``GLASSGATE_REQUIRE_INTEGRATION=1``.
"""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.integration import skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

__all__ = [
    "CHROMIUM",
    "LAUNCH_ARGS",
    "Chromium",
    "Person",
    "VirtualCredential",
    "browser",
    "browser_unavailable",
    "people",
]

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts,
# which this machine's closed network refuses many times a second.
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
TIMEOUT_MS = 20_000


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; scripts/test does it as root)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


def need_browser() -> None:
    reason = browser_unavailable()
    if reason is None:
        return
    skip_or_fail(reason)


@dataclass(frozen=True, slots=True)
class VirtualCredential:
    """One key held by a virtual authenticator, as CDP reports it."""

    credential_id: str  # base64url, as the server stores it
    rp_id: str
    sign_count: int
    resident: bool
    user_handle: str | None


def _b64url(standard: str) -> str:
    return base64.urlsafe_b64encode(base64.b64decode(standard)).rstrip(b"=").decode()


class Person:
    """One browser context, one page, one virtual authenticator."""

    def __init__(self, name: str, context: BrowserContext) -> None:
        self.name = name
        self.context = context
        self.page: Page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []  # the page's console errors and uncaught exceptions
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.cdp: CDPSession = context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        self.authenticator_id: str = added["authenticatorId"]

    def __repr__(self) -> str:
        return f"Person({self.name!r})"

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]

    def _send(self, method: str, **params: Any) -> Any:
        return self.cdp.send(method, {"authenticatorId": self.authenticator_id, **params})

    def credentials(self) -> list[VirtualCredential]:
        found = self._send("WebAuthn.getCredentials")["credentials"]
        return [
            VirtualCredential(
                credential_id=_b64url(c["credentialId"]),
                rp_id=c.get("rpId", ""),
                sign_count=int(c["signCount"]),
                resident=bool(c["isResidentCredential"]),
                user_handle=c.get("userHandle"),
            )
            for c in found
        ]

    def credential(self) -> VirtualCredential:
        """The one key this person holds; an error if they hold none or several."""
        held = self.credentials()
        if len(held) != 1:
            raise AssertionError(f"{self.name} holds {len(held)} keys, expected exactly one")
        return held[0]

    def sign_count(self) -> int:
        return self.credential().sign_count

    def user_verified(self, verified: bool) -> None:
        """False: the authenticator refuses user verification (the ceremony fails in the page)."""
        self._send("WebAuthn.setUserVerified", isUserVerified=verified)

    def forget_keys(self) -> None:
        self._send("WebAuthn.clearCredentials")

    def export_keys(self) -> list[dict[str, Any]]:
        """The raw CDP credentials, private keys included (to clone a key into another person)."""
        return list(self._send("WebAuthn.getCredentials")["credentials"])

    def import_key(self, credential: dict[str, Any]) -> None:
        self._send("WebAuthn.addCredential", credential=credential)

    def close(self) -> None:
        self.context.close()


class Chromium:
    """The launched browser; ``person()`` opens a fresh context for someone."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self.opened: list[Person] = []

    def person(
        self,
        name: str,
        *,
        proxy: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Person:
        """``proxy``: an ``AddressRelay.url`` to come from another address; ``headers`` go on
        every request (for example a spoofed ``X-Forwarded-For``)."""
        context = self._browser.new_context(
            proxy={"server": proxy} if proxy else None,
            extra_http_headers=headers,
            java_script_enabled=True,
        )
        person = Person(name, context)
        self.opened.append(person)
        return person

    def close_people(self) -> None:
        while self.opened:
            self.opened.pop().close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(LAUNCH_ARGS)
        )
        try:
            yield Chromium(launched)
        finally:
            launched.close()


@pytest.fixture
def people(browser: Chromium) -> Iterator[Chromium]:
    """The browser, with every context the test opened closed afterwards."""
    try:
        yield browser
    finally:
        browser.close_people()
