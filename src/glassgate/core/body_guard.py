"""The content guard of a recovery route: a CEL condition over the parsed JSON body.

The seeds' "IdP/SSO domain allowlist": a break-glass session may call the
IdP's admin API, but only to change what the guard allows (for example SSO
settings for listed domains). The body is size-capped *before* parsing;
anything that is not a JSON value within the cap, a condition that does not
evaluate to ``true``, or an evaluation error refuses the request (fail
closed). Compiled once at load; pure: bytes in, verdict out.

The expression sees ``body`` (the parsed JSON; ``null`` when there is no
body), ``method`` and ``path``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["BodyGuard", "GuardVerdict", "compile_body_guard"]

MAX_DEPTH = 32


class GuardVerdict(StrEnum):
    OK = "body-guard-ok"
    TOO_LARGE = "body-guard-too-large"
    NOT_JSON = "body-guard-not-json"
    DENIED = "body-guard-denied"


@dataclass(frozen=True, slots=True)
class BodyGuard:
    source: str
    program: Any  # cel.Program, compiled once
    max_body_bytes: int

    def check(self, body: bytes, method: str, path: str) -> GuardVerdict:
        if len(body) > self.max_body_bytes:
            return GuardVerdict.TOO_LARGE
        parsed = _parse(body)
        if parsed is _INVALID:
            return GuardVerdict.NOT_JSON
        try:
            result = self.program.execute({"body": parsed, "method": method, "path": path})
        except Exception:  # noqa: BLE001 - any evaluator failure refuses, never passes
            return GuardVerdict.DENIED
        return GuardVerdict.OK if result is True else GuardVerdict.DENIED


_INVALID = object()


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None  # no body (a GET, a DELETE): ``body`` is null, the condition decides
    try:
        text = body.decode("utf-8")
        if _depth(text) > MAX_DEPTH:
            return _INVALID
        return json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _INVALID


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(text: str) -> int:
    """Nesting depth, counted before parsing so a deep bomb never reaches the parser."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def compile_body_guard(source: str, max_body_bytes: int) -> BodyGuard:
    """Compile at load; ``ValueError`` with the parser's message on bad CEL."""
    import cel  # noqa: PLC0415 - imported at load only, as in criteria.condition

    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be at least 1")
    return BodyGuard(source, cel.compile(source), max_body_bytes)
