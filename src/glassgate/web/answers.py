"""How the console answers a refusal outside an operation: JSON under ``/api/``, else a page.

One shape for every refusal, whoever refuses (the request guard, the CSRF
check, a page handler, a service): a stable ``code`` and a message a person
can act on, with the status the error carries (``api.refusal_status``).
Messages never contain a secret: the error classes are written that way
(errors.py).
"""

from __future__ import annotations

from starlette.responses import Response

from glassgate.errors import GlassgateError
from glassgate.types import Scope
from glassgate.web.api import UNAVAILABLE, error_json, refusal_status
from glassgate.web.pages import Pages

__all__ = ["MESSAGES", "error_answer", "exception_answer"]

MESSAGES = {
    "csrf_failed": "This form expired or did not come from the console. Reload the page and "
    "try again.",
    "unsupported_media_type": "Send the body as application/json (or, from a page, a form).",
    "payload_too_large": "The request body is too large.",
    "bad_cookie": "A cookie this browser sent cannot be read. Clear this site's cookies.",
    "not_found": "There is nothing here.",
    "method_not_allowed": "This address does not accept that method.",
    "internal_error": "Something went wrong in the console; nothing was changed. Try again.",
}
_TITLES = {401: "Sign-in failed", 403: "Refused", 404: "Not found", 410: "Link not valid"}


def error_answer(
    pages: Pages,
    scope: Scope,
    status: int,
    code: str,
    message: str | None = None,
    retry_after: int | None = None,
) -> Response:
    text = message or MESSAGES.get(code, "The console refused this request.")
    if str(scope.get("path", "")).startswith("/api/"):
        return error_json(status, code, text, retry_after)
    heading = _TITLES.get(status, "Not done")
    response = pages.render(scope, "message.html", status, heading=heading, detail=text)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


def exception_answer(pages: Pages, scope: Scope, exc: GlassgateError) -> Response | None:
    """The answer to a refusal raised by a page handler; None when ``exc`` is a bug."""
    status = refusal_status(exc)
    if status is None:
        return None
    message = UNAVAILABLE if status == 503 else str(exc)
    message = message[:1].upper() + message[1:]
    if not message.endswith("."):
        message += "."
    return error_answer(pages, scope, status, exc.code, message, getattr(exc, "retry_after", None))
