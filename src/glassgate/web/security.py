"""Security headers on every console response, errors included.

A pure ASGI wrapper (not a Starlette middleware) placed outside the whole
application, so even the 500 that Starlette's error middleware writes gets
them, and so do the CSRF and body-guard refusals that never reach Starlette.

- The CSP allows one thing per kind: scripts, styles and fetches from the
  console itself; nothing inline, no plugins, no framing, no ``<base>``,
  same-origin form posts, and Trusted Types enforced (the ceremony script
  writes ``textContent`` only). ``X-Frame-Options`` repeats the framing ban for
  browsers without ``frame-ancestors``.
- ``Referrer-Policy: no-referrer``: a one-time link in the address bar never
  leaks to anyone through a referrer.
- ``Cache-Control: no-store`` on everything but ``/static/``: pages carry CSRF
  tokens, one-time links and bearer tokens shown once; no cache may keep them.
- The opener and resource policies keep other origins from scripting a console
  window or embedding its answers; ``Permissions-Policy`` allows the WebAuthn
  ceremonies and nothing else. Why each: docs/decisions/console-security.md.
"""

from __future__ import annotations

from glassgate.types import ASGIApp, Headers, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "require-trusted-types-for 'script'"
)
SECURITY_HEADERS: Headers = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (
        b"permissions-policy",
        b"publickey-credentials-get=(self), publickey-credentials-create=(self), "
        b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
]
_NO_STORE = (b"cache-control", b"no-store")
_OURS = frozenset(name for name, _ in SECURITY_HEADERS)
_OURS_NO_STORE = _OURS | {_NO_STORE[0]}
_STATIC = "/static/"


class SecurityHeaders:
    """Wraps an ASGI app; sets the headers above, replacing any the app set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(_STATIC)
        replaced = _OURS if static else _OURS_NO_STORE
        added = SECURITY_HEADERS if static else [*SECURITY_HEADERS, _NO_STORE]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Headers = list(message.get("headers") or ())
                kept = [h for h in headers if bytes(h[0]).lower() not in replaced]
                message["headers"] = [*kept, *added]
            await send(message)

        await self._app(scope, receive, send_with_headers)
