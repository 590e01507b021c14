"""What a person does on the console's pages, in a real browser (one ``Person`` each).

Each step is what someone would do: open the link, type, press the button,
let their key answer (the CDP virtual authenticator), and wait for the page
that follows. Failures come back as the text the page shows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.support.browser import Person

if TYPE_CHECKING:
    from playwright.sync_api import Locator

__all__ = [
    "approve",
    "approve_reset",
    "enrol",
    "file_request",
    "sign_in",
    "start_session",
    "status_text",
]

PASSWORD = "correct horse battery staple"


def status_text(person: Person, form: str = "form[data-ceremony]") -> str:
    """What the ceremony form's status says once it says something other than waiting."""
    status = person.page.locator(f"{form} [data-ceremony-status]").first
    person.page.wait_for_function(
        "el => !el.hidden && !el.textContent.startsWith('Waiting')", arg=status.element_handle()
    )
    return status.inner_text()


def _arrive(person: Person, url: str | re.Pattern[str]) -> None:
    """Wait for the page after a ceremony; if the form said why not instead, fail with that."""
    try:
        person.page.wait_for_url(url, timeout=10_000)
    except Exception as exc:
        status = person.page.locator("[data-ceremony-status]").first
        said = status.inner_text() if status.count() else "(no status)"
        raise AssertionError(f"{person.name} stayed on {person.page.url}: {said}") from exc


def enrol(person: Person, link: str, password: str = PASSWORD) -> None:
    person.page.goto(link)
    person.page.fill("#f-password", password)
    person.page.fill("#f-password_again", password)
    person.page.click("form[data-ceremony] button[type=submit]")
    _arrive(person, re.compile(r".*/sign-in\?enrolled=1$"))


def sign_in(person: Person, origin: str, name: str, password: str = PASSWORD) -> None:
    """Sign in and wait for the overview; raises (with the page's message) if it fails."""
    try_sign_in(person, origin, name, password)
    _arrive(person, origin + "/")


def try_sign_in(person: Person, origin: str, name: str, password: str = PASSWORD) -> None:
    person.page.goto(origin + "/sign-in")
    person.page.fill("#f-name", name)
    person.page.fill("#f-password", password)
    person.page.click("form[data-ceremony] button[type=submit]")


def file_request(
    person: Person, origin: str, reason: str, incident: str, *, drill: bool = False
) -> str:
    """File a request (or a drill) and return its id, read from the overview."""
    person.page.goto(origin + ("/drill" if drill else "/requests/new"))
    person.page.fill("#f-reason", reason)
    person.page.fill("#f-incident_ref", incident)
    person.page.click("main form button[type=submit]")
    person.page.wait_for_url(origin + "/")
    return person.page.locator("table tbody tr code").last.inner_text()


def _decision_button(person: Person, origin: str, request_id: str, decision: str) -> Locator:
    person.page.goto(origin + "/approvals")
    section = person.page.locator(f"section[aria-labelledby='r-{request_id}']")
    label = "Approve with my key" if decision == "approve" else "Deny with my key"
    return section.get_by_role("button", name=label)


def approve(person: Person, origin: str, request_id: str, decision: str = "approve") -> None:
    """Decide with the key; the page goes back to the queue when the decision counted."""
    button = _decision_button(person, origin, request_id, decision)
    with person.page.expect_navigation(url=origin + "/approvals"):
        button.click()


def approve_reset(person: Person, origin: str, request_id: str) -> str:
    """The approval that meets a reset's quorum: the page shows the one-time link, once."""
    button = _decision_button(person, origin, request_id, "approve")
    button.click()
    section = f"section[aria-labelledby='r-{request_id}'] form"
    shown = status_text(person, section)
    return shown.splitlines()[-1].strip()


def start_session(person: Person, origin: str) -> tuple[str, str]:
    """Start the approved request's session from the overview: (session id, bearer token)."""
    person.page.goto(origin + "/")
    person.page.get_by_role("button", name="Start the session").click()
    person.page.locator("#session-token").wait_for()
    token = person.page.locator("#session-token").inner_text()
    session_id = person.page.locator("form[action$='/end']").get_attribute("action") or ""
    return session_id.split("/")[2], token
