"""Server-rendered pages: one Jinja2 environment, the console's filters, one ``render``.

Templates live in ``web/templates`` and autoescape everything; nothing in
them is inline script or style (the CSP forbids it). Every page gets the CSRF
token (for its forms and for the ceremony script's header), the signed-in
actor if any, and ``now``; a variable a template names but nobody passed is
an error, not an empty string (``StrictUndefined``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from glassgate.types import Clock, Scope

__all__ = ["STATIC", "TEMPLATES", "Pages", "remaining", "utc"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
_PAGE_DEFAULTS: dict[str, Any] = {"actor": None, "notice": None, "error": None, "refresh": None}


def utc(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def remaining(until: float, now: float) -> str:
    """``12 min 5 s`` left, or ``none``: what a person reads at a glance."""
    left = int(until - now)
    if left <= 0:
        return "none"
    minutes, seconds = divmod(left, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class Pages:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=False,
        )
        self._env.filters["utc"] = utc
        self._env.filters["remaining"] = remaining

    def render(self, scope: Scope, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        token = scope.get("csrftoken")
        values = {
            **_PAGE_DEFAULTS,
            **context,
            "csrf_token": token() if callable(token) else "",
            "now": self._clock(),
        }
        return HTMLResponse(self._env.get_template(name).render(values), status_code=status)
