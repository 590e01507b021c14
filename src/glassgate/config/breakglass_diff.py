"""What a reload changes in the locked break-glass policy, named key by key.

A reload that changes the ``breakglass`` or ``alerts`` section is a
privileged audit event naming what changed (SPEC C7: the policy is locked;
only the config file changes it, and never silently). Values are not
recorded, only the dotted keys; a sealed credential is compared by the
SHA-256 of its value, so rotating the secret behind an unchanged file name
is named too (``...credential.value``), and the secret never appears.
"""

from __future__ import annotations

import hashlib
from typing import Any

from glassgate.config.breakglass_compile import CompiledBreakglass
from glassgate.config.schema import Config

__all__ = ["breakglass_changes"]


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            label = item.get("name") or item.get("route") or index
            _flatten(item, f"{prefix}[{label}]", out)
    else:
        out[prefix] = value


def _view(config: Config | None, compiled: CompiledBreakglass | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config is None:
        return out
    if config.breakglass is not None:
        _flatten(config.breakglass.model_dump(mode="json"), "breakglass", out)
    _flatten(config.alerts.model_dump(mode="json"), "alerts", out)
    for route, sealed in (compiled.sealed if compiled is not None else {}).items():
        digest = hashlib.sha256(sealed.value.reveal().encode("utf-8")).hexdigest()
        out[f"breakglass.recovery_routes[{route}].credential.value"] = digest
    return out


def breakglass_changes(
    old: Config | None,
    old_compiled: CompiledBreakglass | None,
    new: Config,
    new_compiled: CompiledBreakglass | None,
) -> list[str]:
    """Sorted dotted keys whose value differs (added and removed keys included)."""
    before, after = _view(old, old_compiled), _view(new, new_compiled)
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
