"""AuditQuery: what ``audit search`` and ``audit export`` ask the store for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_PAGE", "AuditQuery"]

MAX_PAGE: Final = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """Filters are ANDed; ``None`` means "any".

    ``since``/``until`` are record timestamps (RFC 3339, as stored; ``until``
    is exclusive). ``type`` matches the event type exactly or as a dotted
    prefix (``breakglass`` matches ``breakglass.activate``). Results come in
    sequence order, newest first unless ``ascending``; ``after_seq`` pages
    forwards through an ascending result.
    """

    since: str | None = None
    until: str | None = None
    subject: str | None = None
    actor: str | None = None
    route: str | None = None
    outcome: str | None = None
    type: str | None = None
    after_seq: int = 0
    ascending: bool = False
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"search limit must be between 1 and {MAX_PAGE}")
        if self.after_seq < 0:
            raise ValueError("after_seq cannot be negative")
