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

__all__ = ["SEALED_ENV", "base_config", "breakglass_config", "write_config"]

SEALED_ENV = "OKTA_TOKEN"  # where breakglass_config's sealed recovery credential comes from


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


def breakglass_config(
    issuer: str, upstream: str, hooks: str, workdir: Path, *, console_port: int | None = None
) -> dict[str, Any]:
    """A gateway with break-glass: account ``ops`` from 127.0.0.1, custodians ``alice`` and
    ``bob`` (quorum 2), the recovery route ``okta-admin`` (``/api/v1/*``, the sealed
    credential ``SSWS $OKTA_TOKEN``, a body guard for ``example.com``), the drill route
    ``/drill/*``, an ordinary ``/reports/*``; SQLite and the audit log in ``workdir``;
    required alerts to the webhook ``hooks``. With ``console_port``, the console too,
    its WebAuthn origin ``http://localhost:PORT``.
    """
    only_breakglass = {"groups": ["BreakGlass"]}
    guard = 'method == "GET" || (has(body.domain) && body.domain == "example.com")'
    breakglass: dict[str, Any] = {
        "accounts": [{"name": "ops", "networks": ["127.0.0.1/32"]}],
        "custodians": ["alice", "bob"],
        "quorum": 2,
        "recovery_routes": [
            {
                "route": "okta-admin",
                "credential": {"header": "Authorization", "prefix": "SSWS ", "env": SEALED_ENV},
                "guard": {"condition": guard},
            }
        ],
        "drill_route": "drill",
        "argon2": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
    }
    sections: dict[str, Any] = {}
    if console_port is not None:
        breakglass["webauthn"] = {
            "rp_id": "localhost",
            "origins": [f"http://localhost:{console_port}"],
        }
        sections["console"] = {
            "enabled": True,
            "listen": f"127.0.0.1:{console_port}",
            # every test person signs in from 127.0.0.1, many times: a wide address bucket
            "sign_in_limits": {"per_address": 500},
        }
    return base_config(
        issuer,
        upstream,
        routes=[
            {
                "id": "okta-admin",
                "match": {"path": "/api/v1/*"},
                "upstream": "app",
                "allow": only_breakglass,
            },
            {
                "id": "drill",
                "match": {"path": "/drill/*"},
                "upstream": "app",
                "allow": only_breakglass,
            },
            {"id": "reports", "match": {"path": "/reports/*"}, "upstream": "app"},
        ],
        storage={"sqlite": {"path": str(workdir / "glassgate.db")}},
        audit={
            "checkpoint": {
                "key_file": str(workdir / "audit.key"),
                "file": str(workdir / "checkpoints.jsonl"),
            }
        },
        alerts={
            "required": True,
            "sinks": [{"type": "webhook", "url": hooks + "/alerts", "secret": "hook-secret"}],
        },
        breakglass=breakglass,
        **sections,
    )


def write_config(path: Path, config: dict[str, Any] | str, *, atomic: bool = True) -> None:
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    if not atomic:
        path.write_text(text)
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
