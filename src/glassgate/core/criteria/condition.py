"""An optional CEL condition over claims, request and risk, compiled once at load.

The expression must evaluate to ``true``. ``false``, a non-boolean result or an
evaluation error all deny: a broken condition never lets a request through.
Error text from the evaluator is not echoed, since it may quote claim values.

Variables: ``claims`` (the token's claims), ``principal`` (sub, groups, scopes,
amr, acr, auth_time), ``request`` (method, path, host, ip) and ``risk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.reasons import Reason

__all__ = ["ConditionConfig", "compile_condition", "compile_expression"]


@dataclass(frozen=True, slots=True)
class ConditionConfig:
    source: str
    program: Any  # cel.Program: compiled once; opaque to the type checker


def compile_expression(source: str) -> ConditionConfig:
    """Compile CEL source; raises ValueError with the parser's message on a syntax error.

    ``cel`` is imported here, at config load, not at module import: its package
    pulls in a CLI (and with it socket/asyncio), which the pure core must not.
    """
    import cel  # noqa: PLC0415 - see the docstring

    return ConditionConfig(source=source, program=cel.compile(source))


def activation(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal
    request = ctx.request
    return {
        "claims": _plain(principal.claims),
        "principal": {
            "sub": principal.subject,
            "groups": sorted(principal.groups),
            "scopes": sorted(principal.scopes),
            "amr": sorted(principal.amr),
            "acr": principal.acr or "",
            "auth_time": principal.auth_time or 0,
        },
        "request": {
            "method": request.method,
            "path": request.path,
            "host": request.host,
            "ip": str(request.client_ip),
        },
        "risk": _plain(ctx.risk),
        "now": int(ctx.now),
    }


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return dict(mapping)


def compile_condition(config: ConditionConfig | None) -> Check | None:
    if config is None:
        return None
    program = config.program

    def check(ctx: Context) -> Verdict:
        try:
            result = program.execute(activation(ctx))
        except Exception:  # noqa: BLE001 - any evaluator failure must deny, never pass
            return Verdict.deny(Reason.CONDITION_DENIED, "the condition could not be evaluated")
        if result is True:
            return Verdict.ok(Reason.CONDITION_OK, "the condition holds")
        return Verdict.deny(Reason.CONDITION_DENIED, "the condition does not hold")

    return check
