"""Security headers on every console response, errors included.

A pure ASGI wrapper (not a Starlette middleware) placed outside the whole
application, so even the 500 that Starlette's error middleware writes gets
them. The policy allows only same-origin scripts and styles, no plugins, no
framing, no ``<base>`` and same-origin form posts: the console's pages are
server-rendered with their scripts in files, so nothing inline is needed.
API answers (``/api/...``) are never cached: they carry state and secrets'
metadata.
"""

from __future__ import annotations

from glassgate.types import ASGIApp, Headers, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_ALWAYS: Headers = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_STORE = (b"cache-control", b"no-store")
_OURS = frozenset(name for name, _ in _ALWAYS)
_OURS_FOR_API = _OURS | {_NO_STORE[0]}


class SecurityHeaders:
    """Wraps an ASGI app; sets the headers above, replacing any the app set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")
        replaced = _OURS_FOR_API if api else _OURS
        added = [*_ALWAYS, _NO_STORE] if api else _ALWAYS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Headers = list(message.get("headers") or ())
                kept = [h for h in headers if bytes(h[0]).lower() not in replaced]
                message["headers"] = [*kept, *added]
            await send(message)

        await self._app(scope, receive, send_with_headers)
