"""What the breakglass, custodian and drill commands share: the service, opened from --config.

Every command loads the config (the locked policy lives there), opens the
audit log and the workflow store, runs one action, and closes them again.
State changes go through the service, so each is a privileged audit record
written before it takes effect.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.app.compose import AdminServices
    from glassgate.config.breakglass import BreakglassConfig
    from glassgate.config.breakglass_compile import CompiledBreakglass
    from glassgate.config.schema import Config
    from glassgate.workflows.service import BreakglassService

__all__ = [
    "BreakglassSetup",
    "add_config_argument",
    "link_url",
    "load",
    "run_service",
    "when",
]

_T = TypeVar("_T")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the gateway config")


@dataclass(frozen=True, slots=True)
class BreakglassSetup:
    config: Config
    section: BreakglassConfig
    compiled: CompiledBreakglass


def load(path: str) -> BreakglassSetup:
    from glassgate.config.load import load_config

    loaded = load_config(path)
    section, compiled = loaded.config.breakglass, loaded.compiled.breakglass
    if section is None or compiled is None:
        raise ConfigError(
            [Problem("breakglass", "this config has no breakglass section", file=path)]
        )
    return BreakglassSetup(loaded.config, section, compiled)


def run_service(setup: BreakglassSetup, action: Callable[[BreakglassService], Awaitable[_T]]) -> _T:
    """Open the audit log and the break-glass service, run ``action``, close both."""
    from glassgate.cli._storage import run_admin

    async def run(services: AdminServices) -> _T:
        if services.breakglass is None:  # admin_services opens it when asked
            raise ConfigError([Problem("breakglass", "the break-glass service is off")])
        return await action(services.breakglass)

    return run_admin(setup.config, run, breakglass=setup.compiled)


def link_url(setup: BreakglassSetup, purpose: str, token: str) -> str:
    """The one-time link on the console (``breakglass.webauthn.origins[0]``)."""
    from glassgate.workflows.links import link_url as console_link

    return console_link(setup.section.webauthn.origins[0], purpose, token)


def when(epoch: float | None) -> str:
    from glassgate.audit.records import format_ts

    return "-" if epoch is None else format_ts(epoch)[:19] + "Z"
