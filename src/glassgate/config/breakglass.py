"""Config models for the ``breakglass`` section: the locked break-glass policy (SPEC C7).

Everything here lives in the config file only; no API or console page can
change it, and a reload that changes it is a privileged audit event naming
what changed::

    breakglass:
      accounts:
        - {name: okta-recovery, networks: [10.20.0.0/24]}   # where it may sign in from
      custodians: [alice, bob, carol]
      quorum: 2                       # distinct custodians, never the requester
      recovery_routes:
        - route: okta-admin           # a route id from routes:
          credential:                 # sealed: injected on this route only, never shown
            header: Authorization
            prefix: "SSWS "
            file: /etc/glassgate/okta-api-token     # or env: OKTA_API_TOKEN
          guard:                      # CEL over the parsed JSON body
            condition: 'body.domain in ["example.com"]'
            max_body_bytes: 65536
      drill_route: drill              # a harmless route for drills
      session: {default: 30m, max: 60m}
      request_expiry: 30m
      drill_interval: 90d
      webauthn: {rp_id: gateway.example.com, origins: ["https://gateway.example.com:8081"]}
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from glassgate.config._units import Duration
from glassgate.config.alerts import _Model

__all__ = [
    "Argon2Config",
    "BreakglassAccountConfig",
    "BreakglassConfig",
    "BreakglassPrincipalConfig",
    "ContentGuardConfig",
    "RecoveryRouteConfig",
    "SealedCredentialConfig",
    "SessionLengthConfig",
    "WebAuthnConfig",
]

_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
_HEADER = r"^[A-Za-z0-9!#$%&'*+.^`|~-]{1,64}$"  # an RFC 9110 token (no '_': stripped anyway)


class BreakglassAccountConfig(_Model):
    name: str = Field(pattern=_NAME)
    networks: tuple[str, ...] = Field(min_length=1)  # CIDRs or names from `networks:`


class SealedCredentialConfig(_Model):
    """An upstream credential read once at load, from ``file`` or ``env`` (one of them)."""

    header: str = Field(default="Authorization", pattern=_HEADER)
    prefix: str = Field(default="", max_length=64)
    file: str | None = None
    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of 'file' and 'env' for a sealed credential")
        return self


class ContentGuardConfig(_Model):
    condition: str = Field(min_length=1, max_length=4096)
    max_body_bytes: int = Field(default=64 * 1024, ge=1, le=1024 * 1024)


class RecoveryRouteConfig(_Model):
    route: str = Field(min_length=1)
    credential: SealedCredentialConfig | None = None
    guard: ContentGuardConfig | None = None


class SessionLengthConfig(_Model):
    default: Duration = 1800.0
    max: Duration = Field(default=3600.0, le=3600.0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not 0 < self.default <= self.max:
            raise ValueError("session.default must be positive and at most session.max")
        return self


class BreakglassPrincipalConfig(_Model):
    """What a break-glass session looks like to routes' rules (groups, acr, amr)."""

    groups: tuple[str, ...] = ("BreakGlass",)
    acr: str = "urn:glassgate:loa:breakglass"
    amr: tuple[str, ...] = ("pwd", "hwk", "mfa")


class Argon2Config(_Model):
    time_cost: int = Field(default=3, ge=1, le=20)
    memory_cost: int = Field(default=65536, ge=8, le=4 * 1024 * 1024)  # KiB
    parallelism: int = Field(default=4, ge=1, le=64)


class WebAuthnConfig(_Model):
    """The relying party: ``rp_id`` is the console's host name; ``origins`` its URLs."""

    rp_id: str = Field(default="localhost", min_length=1)
    rp_name: str = Field(default="glassgate", min_length=1)
    origins: tuple[str, ...] = Field(default=("http://localhost:8081",), min_length=1)


class BreakglassConfig(_Model):
    accounts: tuple[BreakglassAccountConfig, ...] = ()
    custodians: tuple[Annotated[str, Field(pattern=_NAME)], ...] = ()
    quorum: int = Field(default=2, ge=1, le=16)
    recovery_routes: tuple[RecoveryRouteConfig, ...] = ()
    drill_route: str | None = None
    session: SessionLengthConfig = SessionLengthConfig()
    request_expiry: Duration = Field(default=1800.0, gt=0, le=86400.0)
    drill_interval: Duration = Field(default=90 * 86400.0, gt=0)
    use_summary_every: Duration = Field(default=300.0, gt=0)
    console_session: Duration = Field(default=900.0, gt=0, le=8 * 3600.0)
    custodian_networks: tuple[str, ...] = ()
    principal: BreakglassPrincipalConfig = BreakglassPrincipalConfig()
    argon2: Argon2Config = Argon2Config()
    webauthn: WebAuthnConfig = WebAuthnConfig()
