"""The web console: its own listener, in the gateway's process and event loop.

Never on the data-plane port (``console.listen``, checked at load). Handlers
call services the composition root hands to ``create_console_app``, never
storage. Every response carries strict security headers (``security``); the
JSON API is an explicit, typed registry of operations (``api``) from which
the OpenAPI 3.1 document is generated (``openapi``). Server-rendered pages
(Jinja2) and break-glass, grants and directory endpoints land here next, as
operations in the registry and fields of ``ConsoleServices``.
"""

from __future__ import annotations

from glassgate.web.app import ConsoleServices, create_console_app

__all__ = ["ConsoleServices", "create_console_app"]
