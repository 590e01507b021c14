"""The console's request guard: what a request may carry, checked before anyone parses it.

It sits in front of the CSRF check (``web.csrf``) and the handlers:

- ``Cookie`` headers must be UTF-8 (400 otherwise): the CSRF library decodes
  them as UTF-8 and would raise on anything else.
- ``POST``/``PUT``/``PATCH``/``DELETE`` must be ``application/json`` or
  ``application/x-www-form-urlencoded`` (415 otherwise): the console has no
  uploads, and the CSRF library must never meet a multipart body (one without
  a boundary makes it raise).
- The body is capped (413, by ``Content-Length`` before reading, else while
  reading) and read whole, then replayed as one message: parsers downstream
  see a complete, bounded body (the CSRF library reads form bodies without a
  cap of its own), and a client that disconnects half-way gets nothing done
  instead of a 500 in the log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from glassgate.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BODY_TYPES", "SAFE_METHODS", "Refusal", "RequestGuard"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_TYPES = frozenset({b"application/json", b"application/x-www-form-urlencoded"})

# Answers a refused request: (scope, send, status, error code).
Refusal = Callable[[Scope, Send, int, str], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _content_type(scope: Scope) -> bytes:
    return (_header(scope, b"content-type") or b"").split(b";", 1)[0].strip().lower()


def _declared_length(scope: Scope) -> int:
    raw = _header(scope, b"content-length")
    return int(raw) if raw is not None and raw.isdigit() else 0


def _cookies_readable(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"cookie":
            try:
                bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


class RequestGuard:
    def __init__(self, app: ASGIApp, limit: int, refuse: Refusal) -> None:
        self._app = app
        self._limit = limit
        self._refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if not _cookies_readable(scope):
            await self._refuse(scope, send, 400, "bad_cookie")
            return
        if scope["method"] in SAFE_METHODS:
            await self._app(scope, receive, send)
            return
        if _content_type(scope) not in BODY_TYPES:
            await self._refuse(scope, send, 415, "unsupported_media_type")
            return
        if _declared_length(scope) > self._limit:
            await self._refuse(scope, send, 413, "payload_too_large")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body arrived: nothing to do
            body += message.get("body", b"")
            if len(body) > self._limit:
                await self._refuse(scope, send, 413, "payload_too_large")
                return
            if not message.get("more_body", False):
                break
        await self._app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
