"""Authentication strength levels: built-in defaults that understand Okta and RFC 8176.

``mfa`` is met by Okta's ``urn:okta:loa:2fa:any``, the OpenID EAP values ``phr``
and ``phrh``, or an ``amr`` holding ``mfa``. ``phishing_resistant`` is met by
``phr`` / ``phrh`` or an ``amr`` holding both ``mfa`` and ``hwk``. A level of
the same name in the config replaces the default; new names add levels.
``any`` is always met and has no check.
"""

from __future__ import annotations

from collections.abc import Mapping

from glassgate.config.schema import StrengthLevelConfig
from glassgate.core.criteria.auth_strength import StrengthLevel

__all__ = ["ANY", "DEFAULT_LEVELS", "strength_levels"]

ANY = "any"

DEFAULT_LEVELS: Mapping[str, StrengthLevelConfig] = {
    "mfa": StrengthLevelConfig(
        acr=(
            "urn:okta:loa:2fa:any",
            "phr",
            "phrh",
            "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
        ),
        amr=("mfa",),
    ),
    "phishing_resistant": StrengthLevelConfig(
        acr=(
            "phrh",
            "phr",
            "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant",
        ),
        amr_all=("mfa", "hwk"),
    ),
}


def strength_levels(
    configured: Mapping[str, StrengthLevelConfig],
) -> dict[str, StrengthLevel | None]:
    """Every level name that routes may use, mapped to its compiled level (None: ``any``)."""
    merged = {**DEFAULT_LEVELS, **configured}
    levels: dict[str, StrengthLevel | None] = {ANY: None}
    for name, level in merged.items():
        levels[name] = StrengthLevel(
            name=name,
            acr=tuple(level.acr),
            amr=frozenset(level.amr),
            amr_all=frozenset(level.amr_all),
        )
    return levels
