"""Small value parsers shared by the config schema: durations, rates, CIDRs."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["CIDR", "Duration", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"30s"``, ``"5m"``, ``"1h"``, ``"250ms"``."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or a string like '30s'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _SCALE[match.group(2)]
    raise ValueError("a duration must be a number of seconds or a string like '30s', '5m', '1h'")


def _parse_cidr(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a network must be a CIDR string such as '10.0.0.0/8'")
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"not a valid CIDR network: {exc}") from None


Duration = Annotated[float, BeforeValidator(parse_duration)]
CIDR = Annotated[str, BeforeValidator(_parse_cidr)]
