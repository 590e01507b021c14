"""The console's pages in headless Chromium, one browser context and virtual key per person.

The console runs over an in-process break-glass service (``ThreadedConsole``);
the whole path through the real gateway, IdP and upstream is
``test_breakglass_e2e``. Here: every page a person uses works with the one
script and no CSP violation, and the refusals a person can meet in a browser
are shown to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network

import pytest

from glassgate.workflows.identities import IdentityKind
from glassgate.workflows.links import link_url
from glassgate.workflows.policy import AccountPolicy
from tests.support.breakglass import default_policy
from tests.support.browser import Chromium, Person
from tests.support.console_pages import (
    PASSWORD,
    approve,
    enrol,
    file_request,
    sign_in,
    start_session,
    status_text,
    try_sign_in,
)
from tests.support.console_thread import ThreadedConsole
from tests.support.relay import AddressRelay

pytestmark = pytest.mark.integration

GENERIC = "sign-in failed: check the name, password, security key and network"


@pytest.fixture
def console() -> Iterator[ThreadedConsole]:
    policy = default_policy(accounts={"ops": AccountPolicy("ops", (ip_network("127.0.0.1/32"),))})
    with ThreadedConsole(policy) as served:
        yield served


def link_for(console: ThreadedConsole, kind: IdentityKind, name: str) -> str:
    issued = console.call(lambda: console.harness.service.enrolment.create(kind, name, "cli:test"))
    return link_url(console.origin, "enrol", issued.token.reveal())


def enrolled(people: Chromium, console: ThreadedConsole, kind: IdentityKind, name: str) -> Person:
    person = people.person(name)
    enrol(person, link_for(console, kind, name))
    assert len(person.credentials()) == 1
    return person


def test_request_approve_start_and_end_in_the_browser(
    people: Chromium, console: ThreadedConsole
) -> None:
    origin = console.origin
    ops = enrolled(people, console, IdentityKind.ACCOUNT, "ops")
    alice = enrolled(people, console, IdentityKind.CUSTODIAN, "alice")
    bob = enrolled(people, console, IdentityKind.CUSTODIAN, "bob")
    for person in (ops, alice, bob):
        sign_in(person, origin, person.name)

    request_id = file_request(ops, origin, "Okta admins lost their group", "INC-7")
    approve(alice, origin, request_id)
    approve(bob, origin, request_id)
    assert bob.page.get_by_text("No request is waiting for a decision.").is_visible()

    session_id, token = start_session(ops, origin)
    assert token.startswith("ggbg_")
    cookies = {c["name"]: c for c in ops.context.cookies()}
    assert cookies["gg_breakglass"]["value"] == token
    assert cookies["gg_breakglass"]["httpOnly"] is True
    assert cookies["gg_breakglass"]["secure"] is True
    assert cookies["gg_breakglass"]["sameSite"] == "Strict"
    assert cookies["gg_console"]["httpOnly"] is True
    assert "min" in ops.page.locator("#time-left").inner_text()

    ops.page.goto(f"{origin}/sessions/{session_id}")
    assert ops.page.locator("#session-token").count() == 0, "the token is shown once only"
    ops.page.get_by_role("button", name="End the session now").click()
    ops.page.wait_for_url(f"{origin}/sessions/{session_id}")
    assert ops.page.locator(".state").inner_text().lower() == "ended"

    for person in (ops, alice, bob):
        assert person.csp_violations() == [], person.name
    assert ops.sign_count() >= 2  # enrol, sign in
    assert alice.sign_count() >= 3  # enrol, sign in, decide


def test_sign_in_failures_read_the_same_in_the_page(
    people: Chromium, console: ThreadedConsole
) -> None:
    origin = console.origin
    ops = enrolled(people, console, IdentityKind.ACCOUNT, "ops")
    try_sign_in(ops, origin, "ops", "not the password")
    assert status_text(ops) == GENERIC

    key_only = people.person("key-only")
    key_only.import_key(ops.export_keys()[0])  # the right key, and no password
    key_only.page.goto(origin + "/sign-in")
    key_only.page.fill("#f-name", "ops")
    key_only.page.evaluate("document.querySelector('#f-password').removeAttribute('required')")
    key_only.page.click("form[data-ceremony] button[type=submit]")
    assert status_text(key_only) == GENERIC

    no_key = people.person("no-key")  # the password, but an authenticator without the key
    try_sign_in(no_key, origin, "ops")
    assert "Your key did not answer" in status_text(no_key)


def test_sign_in_from_another_address_or_with_a_spoofed_header_fails(
    people: Chromium, console: ThreadedConsole
) -> None:
    origin = console.origin
    ops = enrolled(people, console, IdentityKind.ACCOUNT, "ops")
    with AddressRelay("127.0.0.9") as relay:
        for headers in (None, {"X-Forwarded-For": "127.0.0.1"}):
            away = people.person("ops-away", proxy=relay.url, headers=headers)
            away.import_key(ops.export_keys()[0])
            try_sign_in(away, origin, "ops")
            assert status_text(away) in {
                GENERIC,
                "Your key did not answer: it was cancelled, "
                "timed out, or could not verify you. Try again.",
            }
            assert away.page.url.endswith("/sign-in")


def test_a_stolen_console_cookie_is_useless_from_another_address(
    people: Chromium, console: ThreadedConsole
) -> None:
    origin = console.origin
    ops = enrolled(people, console, IdentityKind.ACCOUNT, "ops")
    sign_in(ops, origin, "ops")
    with AddressRelay("127.0.0.9") as relay:
        thief = people.person("thief", proxy=relay.url)
        thief.context.add_cookies(ops.context.cookies())
        thief.page.goto(origin + "/")
        assert thief.page.url == origin + "/sign-in"


def test_a_form_without_its_csrf_token_is_refused(
    people: Chromium, console: ThreadedConsole
) -> None:
    origin = console.origin
    ops = enrolled(people, console, IdentityKind.ACCOUNT, "ops")
    sign_in(ops, origin, "ops")
    ops.page.goto(origin + "/requests/new")
    ops.page.fill("#f-reason", "forged")
    ops.page.fill("#f-incident_ref", "INC-0")
    ops.page.evaluate("document.querySelector('main input[name=csrftoken]').remove()")
    ops.page.click("main form button[type=submit]")
    ops.page.wait_for_load_state()
    assert "This form expired or did not come from the console" in ops.page.content()
    ops.page.goto(origin + "/")
    assert ops.page.get_by_text("No request yet.").is_visible(), "nothing was filed"


def test_a_used_enrolment_link_says_so(people: Chromium, console: ThreadedConsole) -> None:
    link = link_for(console, IdentityKind.CUSTODIAN, "alice")
    enrol(people.person("alice"), link)
    again = people.person("alice-again")
    again.page.goto(link)
    again.page.fill("#f-password", PASSWORD)
    again.page.fill("#f-password_again", PASSWORD)
    again.page.click("form[data-ceremony] button[type=submit]")
    assert "this link is not valid" in status_text(again)
    assert again.credentials() == [], "refused before the key was asked"
