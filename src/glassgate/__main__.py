"""``python -m glassgate`` runs the CLI."""

from __future__ import annotations

from glassgate.cli import main

raise SystemExit(main())
