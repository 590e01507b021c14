"""The browser harness proves itself on a throwaway page before any console exists.

A small ASGI app (in this file) serves the console's real ``webauthn.js`` under
the console's CSP (script-src 'self', no inline script) and verifies the
ceremonies with py_webauthn: Chromium with a CDP virtual authenticator enrols
a key and signs in twice, the sign count moves, a refused user verification
fails in the page, and a context routed through ``AddressRelay`` reaches the
server from another loopback address while its origin stays ``localhost``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tests.support.browser import Chromium
from tests.support.relay import AddressRelay

pytestmark = pytest.mark.integration

STATIC = Path(__file__).resolve().parents[2] / "src/glassgate/web/static"
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "require-trusted-types-for 'script'"
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title>
<meta name="csrf-token" content="{csrf}">
<script src="/static/webauthn.js" defer></script></head>
<body><p id="peer">{peer}</p>
<form id="enrol" data-ceremony="create" data-begin="/api/register/begin"
      data-begin-fields="name" data-finish="/api/register/finish" data-next="/done?what=enrolled">
  <input name="name" value="alice"><button>Enrol</button>
  <p data-ceremony-status role="alert" hidden></p></form>
<form id="login" data-ceremony="get" data-begin="/api/login/begin" data-begin-fields="name"
      data-finish="/api/login/finish" data-next="/done?what=signed-in">
  <input name="name" value="alice"><input type="password" name="password" value="pw">
  <button>Sign in</button><p data-ceremony-status role="alert" hidden></p></form>
</body></html>"""

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Rp:
    """Just enough relying party to check what the browser sends."""

    origin: str = ""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    challenge: bytes = b""
    credential: tuple[bytes, bytes, int] | None = None  # id, public key, sign count
    seen: list[dict[str, Any]] = field(default_factory=list)

    def register_options(self) -> str:
        options = generate_registration_options(
            rp_id="localhost",
            rp_name="harness",
            user_name="alice",
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
        )
        self.challenge = options.challenge
        return options_to_json(options)

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        verified = verify_registration_response(
            credential=body["credential"],
            expected_challenge=self.challenge,
            expected_rp_id="localhost",
            expected_origin=self.origin,
            require_user_verification=True,
        )
        self.credential = (
            verified.credential_id,
            verified.credential_public_key,
            verified.sign_count,
        )
        return {"fmt": verified.fmt, "uv": verified.user_verified}

    def login_options(self) -> str:
        assert self.credential is not None
        options = generate_authentication_options(
            rp_id="localhost",
            allow_credentials=[PublicKeyCredentialDescriptor(id=self.credential[0])],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        self.challenge = options.challenge
        return options_to_json(options)

    def login(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.credential is not None
        verified = verify_authentication_response(
            credential=body["credential"],
            expected_challenge=self.challenge,
            expected_rp_id="localhost",
            expected_origin=self.origin,
            credential_public_key=self.credential[1],
            credential_current_sign_count=self.credential[2],
            require_user_verification=True,
        )
        self.credential = (self.credential[0], self.credential[1], verified.new_sign_count)
        return {"sign_count": verified.new_sign_count}


def _begun(challenge_id: str, options: str) -> str:
    return json.dumps({"challenge_id": challenge_id, "options": json.loads(options)})


def harness_app(rp: Rp) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def reply(send: Send, status: int, body: bytes, kind: str) -> None:
        headers = [(b"content-type", kind.encode()), (b"content-security-policy", CSP.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def read(receive: Receive) -> dict[str, Any]:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                return dict(json.loads(body))

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, headers = scope["path"], dict(scope["headers"])
        if path == "/static/webauthn.js":
            await reply(send, 200, (STATIC / "webauthn.js").read_bytes(), "text/javascript")
            return
        if scope["method"] == "GET":
            page = PAGE.format(csrf=rp.csrf, peer=scope["client"][0])
            await reply(send, 200, page.encode(), "text/html; charset=utf-8")
            return
        if headers.get(b"x-csrftoken", b"").decode() != rp.csrf:
            await reply(
                send,
                403,
                b'{"error": "csrf_failed", "message": "no CSRF token"}',
                "application/json",
            )
            return
        body = await read(receive)
        rp.seen.append({"path": path, "body": body})
        handlers = {
            "/api/register/begin": lambda: _begun("c1", rp.register_options()),
            "/api/register/finish": lambda: json.dumps(rp.register(body)),
            "/api/login/begin": lambda: _begun("c2", rp.login_options()),
            "/api/login/finish": lambda: json.dumps(rp.login(body)),
        }
        try:
            answer = handlers[path]()
        except Exception as exc:  # noqa: BLE001 - any refusal goes back to the page
            message = json.dumps({"error": "refused", "message": type(exc).__name__})
            await reply(send, 400, message.encode(), "application/json")
            return
        await reply(send, 200, answer.encode(), "application/json")

    return app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Rp]]:
    rp = Rp()
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    rp.origin = f"http://localhost:{port}"
    server = uvicorn.Server(uvicorn.Config(harness_app(rp), log_level="error", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield rp.origin, rp
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_a_virtual_key_enrols_and_signs_in_through_the_console_script(
    people: Chromium, served: tuple[str, Rp]
) -> None:
    origin, rp = served
    alice = people.person("alice")
    alice.page.goto(origin + "/")
    alice.page.click("#enrol button")
    alice.page.wait_for_url("**/done?what=enrolled")
    assert rp.seen[-1]["body"]["challenge_id"] == "c1"
    assert rp.seen[-2]["body"] == {"name": "alice"}, "begin gets only data-begin-fields"
    key = alice.credential()
    assert key.rp_id == "localhost"
    assert rp.credential is not None
    assert key.credential_id == _b64(rp.credential[0])

    enrolled_count = rp.credential[2]
    for logins in (1, 2):
        alice.page.goto(origin + "/")
        alice.page.click("#login button")
        alice.page.wait_for_url("**/done?what=signed-in")
        assert rp.credential[2] == enrolled_count + logins == alice.sign_count()
    assert alice.csp_violations() == []
    assert rp.seen[-1]["body"]["password"] == "pw", "finish gets every field"
    assert "password" not in rp.seen[-2]["body"], "the password never goes to begin"


def test_a_refused_user_verification_fails_in_the_page(
    people: Chromium, served: tuple[str, Rp]
) -> None:
    origin, rp = served
    bob = people.person("bob")
    bob.page.goto(origin + "/")
    bob.user_verified(False)
    calls = len(rp.seen)
    bob.page.click("#enrol button")
    status = bob.page.locator("#enrol [data-ceremony-status]")
    status.filter(has_text="could not verify you").wait_for()
    assert [s["path"] for s in rp.seen[calls:]] == ["/api/register/begin"]
    assert bob.credentials() == []
    assert bob.page.locator("#enrol button").is_enabled(), "the form can be tried again"


def test_a_server_refusal_shows_its_message(people: Chromium, served: tuple[str, Rp]) -> None:
    origin, _ = served
    carol = people.person("carol")
    carol.page.goto(origin + "/")
    carol.page.evaluate(
        "document.querySelector('meta[name=csrf-token]').setAttribute('content', 'forged')"
    )
    carol.page.click("#enrol button")
    carol.page.locator("#enrol [data-ceremony-status]").filter(has_text="no CSRF token").wait_for()
    assert carol.credentials() == []


def test_a_relayed_person_comes_from_another_address_with_the_same_origin(
    people: Chromium, served: tuple[str, Rp]
) -> None:
    origin, _ = served
    at_home = people.person("insider")
    at_home.page.goto(origin + "/")
    assert at_home.page.text_content("#peer") == "127.0.0.1"
    with AddressRelay("127.0.0.9") as relay:
        outsider = people.person("outsider", proxy=relay.url)
        outsider.page.goto(origin + "/")
        assert outsider.page.text_content("#peer") == "127.0.0.9"
        assert outsider.page.evaluate("location.origin") == origin
        outsider.page.click("#enrol button")
        outsider.page.wait_for_url("**/done?what=enrolled")
        assert outsider.credential().rp_id == "localhost"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
