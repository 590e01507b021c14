"""CSRF protection for the console: ``asgi-csrf``'s signed double-submit cookie, wired strictly.

Unsafe requests must echo the ``gg_csrf`` cookie's value in the form field
``csrftoken`` (plain HTML forms) or the ``X-CSRFToken`` header (the ceremony
script, which reads it from ``<meta name="csrf-token">``). The library's one
loophole, skipping requests that carry no cookie at all, is closed by
protecting every path, so a first POST without a cookie (login CSRF) is
refused as well. Requests with ``Authorization: Bearer`` pass (the library's
rule): no browser adds that header on its own, and the console then reads no
cookie at all (``web.auth``). Why this library and not another:
docs/decisions/console-security.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asgi_csrf

from glassgate.types import ASGIApp, Scope, Send

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "csrf_protected", "csrf_token"]

CSRF_COOKIE = "gg_csrf"  # gg_: the data plane never forwards it (identity_out.OWN_COOKIE_PREFIX)
CSRF_FIELD = "csrftoken"  # asgi-csrf reads only this form field name
CSRF_HEADER = "x-csrftoken"

Refusal = Callable[[Scope, Send], Awaitable[None]]


class _EveryPath:
    """``always_protect`` for asgi-csrf: every path, so "no cookie" is never a pass."""

    def __contains__(self, path: object) -> bool:
        return True


def csrf_protected(app: ASGIApp, secret: str, refuse: Refusal) -> ASGIApp:
    """``app`` behind the CSRF check; ``refuse`` answers a failed check (403 ``csrf_failed``)."""

    async def failed(scope: Scope, send: Send, _reason: object) -> None:
        await refuse(scope, send)

    protected: ASGIApp = asgi_csrf.asgi_csrf_decorator(
        cookie_name=CSRF_COOKIE,
        http_header=CSRF_HEADER,
        form_input=CSRF_FIELD,
        signing_secret=secret,
        signing_namespace="glassgate-console",
        always_protect=_EveryPath(),
        always_set_cookie=True,
        cookie_secure=True,
        cookie_samesite="Strict",
        send_csrf_failed=failed,
    )(app)
    return protected


def csrf_token(scope: Scope) -> str:
    """The token a page embeds (the library puts a getter in the scope)."""
    getter: Callable[[], str] = scope["csrftoken"]
    return getter()
