"""glassgate: an identity-aware API access gateway with break-glass access built in.

Importing this package does no I/O. The public surface is deliberately tiny;
everything else is reached through its own subpackage.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
