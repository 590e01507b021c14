"""Config models for alerts (the ``alerts`` section)::

    alerts:
      required: true          # the default: an activation no sink accepted is refused
      timeout: 5s             # per sink, per alert
      sinks:
        - {type: webhook, url: "https://hooks.example/glassgate", secret: "${ALERT_HOOK_SECRET}"}
        - {type: syslog, host: siem.example, port: 6514, transport: tcp}
        - {type: email, host: smtp.example, port: 587, from: glassgate@example.com,
           to: [oncall@example.com], starttls: true, username: glassgate,
           password: "${SMTP_PASSWORD}"}

Models are frozen and forbid unknown keys, like ``schema._Model``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from glassgate.config._units import Duration

__all__ = [
    "AlertSinkConfig",
    "AlertsConfig",
    "EmailAlertSinkConfig",
    "SyslogAlertSinkConfig",
    "WebhookAlertSinkConfig",
]

_EMAIL = r"^[^@\s<>,]+@[^@\s<>,]+$"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, populate_by_name=True
    )


class WebhookAlertSinkConfig(_Model):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr


class SyslogAlertSinkConfig(_Model):
    type: Literal["syslog"]
    host: str = Field(min_length=1)
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    facility: int = Field(default=10, ge=0, le=23)


class EmailAlertSinkConfig(_Model):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(alias="from", pattern=_EMAIL)
    to: tuple[Annotated[str, Field(pattern=_EMAIL)], ...] = Field(min_length=1)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    ca_file: str | None = None  # a private CA for STARTTLS; certificates are always verified


AlertSinkConfig = Annotated[
    WebhookAlertSinkConfig | SyslogAlertSinkConfig | EmailAlertSinkConfig,
    Field(discriminator="type"),
]


class AlertsConfig(_Model):
    """Where alerts go. ``required``: an activation no sink heard about is refused."""

    required: bool = True
    timeout: Duration = Field(default=5.0, gt=0, le=60)
    sinks: tuple[AlertSinkConfig, ...] = ()
