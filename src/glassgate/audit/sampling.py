"""What may be sampled, and what never is (SPEC C8).

Only *allowed ordinary traffic* may be sampled: a ``decision`` event with
outcome ``allow`` that is not privileged and was not a report-only would-be
denial. Denials, step-ups, unauthenticated and rate-limited requests, every
privileged decision and every admin, break-glass, grant or config event are
always recorded. The random draw is passed in, so this module stays pure.
"""

from __future__ import annotations

from dataclasses import replace

from glassgate.audit.records import AuditEvent, EventType

__all__ = ["is_sampleable", "sample"]


def sampleable_decision(outcome: str, would_be: object, privileged: bool) -> bool:
    """The one rule: only an allowed, unprivileged decision that would also be
    allowed under enforcement may be dropped; denials never are."""
    return not privileged and outcome == "allow" and (would_be is None or would_be == "allow")


def is_sampleable(event: AuditEvent) -> bool:
    """True only for events that sampling is allowed to drop."""
    if event.type != EventType.DECISION:
        return False
    return sampleable_decision(event.outcome, event.details.get("would_be"), event.is_privileged)


def sample(event: AuditEvent, rate: float, draw: float) -> AuditEvent | None:
    """The event to record (stamped with ``rate`` when sampled), or ``None`` to skip it.

    ``draw`` is uniform in [0, 1); with ``rate`` 0.1 about one allowed request
    in ten is kept, and its record says ``sample_rate: 0.1``.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError("sample rate must be between 0 and 1")
    if rate >= 1.0 or not is_sampleable(event):
        return event
    if draw >= rate:
        return None
    return replace(event, sample_rate=rate)
