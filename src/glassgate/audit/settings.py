"""AuditSettings and CheckpointPlan: how the AuditLog behaves, as plain values.

Built from the ``audit`` config section (``AuditSettings.from_config``) or
directly in tests. ``CheckpointPlan`` carries the signing key, so it is never
logged or printed (its ``repr`` hides the key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glassgate.audit.checkpoints import CheckpointSchedule
from glassgate.config.audit import AuditConfig
from glassgate.ports import CheckpointLog

__all__ = ["AuditSettings", "CheckpointPlan"]


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Sampling of allowed traffic, the queue, and how long a durable write may take."""

    sample_rate: float = 1.0
    on_failure: Literal["serve", "refuse"] = "serve"
    queue_size: int = 10_000
    batch_size: int = 500
    write_timeout: float = 5.0
    retry_initial: float = 0.05
    retry_max: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError("audit sample_rate must be between 0 and 1")
        if self.queue_size < 1 or self.batch_size < 1:
            raise ValueError("audit queue_size and batch_size must be at least 1")
        if min(self.write_timeout, self.retry_initial, self.retry_max) <= 0:
            raise ValueError("audit timeouts and retry delays must be positive")

    @classmethod
    def from_config(cls, config: AuditConfig) -> AuditSettings:
        return cls(
            sample_rate=config.sample_rate,
            on_failure=config.on_failure,
            queue_size=config.queue_size,
            batch_size=config.batch_size,
            write_timeout=config.write_timeout,
        )


@dataclass(frozen=True, slots=True)
class CheckpointPlan:
    """The signing key, when to sign, and where checkpoints are kept (file, database)."""

    key: Ed25519PrivateKey = field(repr=False)
    schedule: CheckpointSchedule
    logs: tuple[CheckpointLog, ...]
    to_sinks: bool = True
