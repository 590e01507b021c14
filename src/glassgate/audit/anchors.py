"""Checkpoints held outside the gateway's host: what ``audit verify --anchor`` reads.

Every checkpoint glassgate signs is forwarded to the configured sinks as it is
made (and one on clean shutdown), so a SIEM, a syslog server or a webhook
receiver holds the newest head the gateway ever vouched for. Given that copy,
``verify`` notices a log cut below it even when whoever cut it also rewrote
the database's checkpoint table and the local checkpoint file.

The outside copy is read in any form glassgate sends, one item per line:

- a line of the checkpoint file: ``{"v":1,"seq":...,"sig":...}``;
- an RFC 5424 message with MSGID ``checkpoint`` as a syslog server writes it
  (the checkpoint's JSON follows the BOM), also as an RFC 6587 octet-counted
  stream;
- a webhook batch ``{"events":[...]}`` or one of its items
  ``{"type":"audit.checkpoint","checkpoint":{...}}``, one per line or a
  whole pretty-printed document.

Anything else (records, other programs' log lines, noise) is skipped; an item
that presents itself as a checkpoint but does not parse is reported as a
forged checkpoint, never skipped. Signatures are checked by ``chain.verify``.
Pure: bytes in, checkpoints out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.export import BOM
from glassgate.errors import ChainBrokenError

__all__ = ["checkpoints_in"]

_DECODER = json.JSONDecoder()
_WEBHOOK_TYPE = "audit.checkpoint"


def _values(text: str) -> Iterator[dict[str, Any]]:
    """The JSON object starting at the first ``{`` of ``text``, if it parses."""
    brace = text.find("{")
    if brace < 0:
        return
    try:
        value, _ = _DECODER.raw_decode(text, brace)
    except (ValueError, RecursionError):
        return
    yield cast("dict[str, Any]", value)  # what starts with '{' and parses is an object


def _line_values(line: bytes) -> Iterator[dict[str, Any]]:
    parts = line.split(BOM)
    for part in parts[1:] if len(parts) > 1 else parts:
        yield from _values(part.decode("utf-8", "replace"))


def _presented(value: dict[str, Any]) -> Iterator[object]:
    """The objects in ``value`` that present themselves as checkpoints."""
    if "sig" in value and "v" in value:
        yield value
    elif value.get("type") == _WEBHOOK_TYPE:
        yield value.get("checkpoint")
    elif isinstance(value.get("events"), list):
        for item in value["events"]:
            if isinstance(item, dict) and item.get("type") == _WEBHOOK_TYPE:
                yield item.get("checkpoint")


def _parse(presented: object, where: str) -> Checkpoint:
    try:
        return Checkpoint.from_fields(presented)
    except ValueError as exc:
        raise ChainBrokenError(
            0, "forged-checkpoint", f"{where} holds something like a checkpoint that is not ({exc})"
        ) from None


def checkpoints_in(data: bytes, *, source: str = "anchor") -> list[Checkpoint]:
    """Every checkpoint in ``data``, once each, by sequence number."""
    found: set[Checkpoint] = set()
    for number, line in enumerate(data.splitlines(), start=1):
        for value in _line_values(line):
            found.update(_parse(item, f"{source}:{number}") for item in _presented(value))
    if not found:  # one document across lines, e.g. a pretty-printed webhook batch
        for value in _values(data.decode("utf-8", "replace")):
            found.update(_parse(item, source) for item in _presented(value))
    return sorted(found, key=lambda item: (item.seq, item.ts))
