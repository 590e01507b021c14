"""JSON from outside, read safely: size-capped, no NaN/Infinity, no endless nesting."""

from __future__ import annotations

import json
from typing import Any

from glassgate.errors import ImportInvalidError, Problem

__all__ = ["MAX_IMPORT_BYTES", "load_json"]

MAX_IMPORT_BYTES = 256 * 1024 * 1024


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str | bytes, where: str) -> Any:
    """Parsed JSON, or ``ImportInvalidError`` naming ``where`` and what is wrong."""
    if len(text) > MAX_IMPORT_BYTES:
        raise ImportInvalidError([Problem(where, f"larger than {MAX_IMPORT_BYTES} bytes")])
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        return json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        problem = Problem(where, f"not UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        problem = Problem(where, f"not valid JSON: {exc.msg}", line=exc.lineno)
    except (ValueError, RecursionError) as exc:  # huge integers, NaN, deep nesting
        problem = Problem(where, f"not usable JSON: {str(exc)[:120] or type(exc).__name__}")
    raise ImportInvalidError([problem])
