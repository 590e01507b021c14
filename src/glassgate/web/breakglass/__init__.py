"""The break-glass console: its JSON API (``api``) and its pages (``pages``).

Both call the current configuration's ``BreakglassService`` (``ports.BreakglassSource``)
through a ``Caller`` (``caller``): the service, the client address as the data
plane finds it, and the console session the request presents. Nothing here
decides a break-glass rule: the services do, and their refusals are answered
with their own status and message (``web.api``, ``web.answers``).
"""

from __future__ import annotations

from glassgate.web.breakglass.api import breakglass_operations
from glassgate.web.breakglass.caller import BreakglassConsole
from glassgate.web.breakglass.pages import breakglass_pages

__all__ = ["BreakglassConsole", "breakglass_operations", "breakglass_pages"]
