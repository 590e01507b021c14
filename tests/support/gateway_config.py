"""Gateway configs for integration tests, built as dicts and written as YAML.

``listen`` stays ``${GLASSGATE_LISTEN}`` so ``GatewayProcess`` picks the port.
``write_config`` replaces the file atomically by default (how editors and
Kubernetes ConfigMaps do it); ``atomic=False`` rewrites it in place.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["base_config", "write_config"]


def base_config(issuer: str, upstream: str, **sections: Any) -> dict[str, Any]:
    """One issuer ``idp`` (audience ``api://gateway``), one upstream ``app``; add routes etc."""
    config: dict[str, Any] = {
        "version": 1,
        "listen": "${GLASSGATE_LISTEN}",
        "issuers": [
            {
                "id": "idp",
                "issuer": issuer,
                "audiences": ["api://gateway"],
                "algorithms": ["RS256", "ES256"],
                "jwks": {"refresh_interval": "60s", "unknown_kid_min_interval": "1s"},
            }
        ],
        "upstreams": [{"id": "app", "targets": [upstream]}],
        "routes": [],
    }
    config.update(copy.deepcopy(sections))
    return config


def write_config(path: Path, config: dict[str, Any] | str, *, atomic: bool = True) -> None:
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    if not atomic:
        path.write_text(text)
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
