"""Compile a validated Config into the pure core's objects, once, at load time.

Nothing here is re-done per request: patterns are parsed, CIDRs built, CEL
compiled, time zones resolved and strength levels merged exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from zoneinfo import ZoneInfo

from glassgate.config.breakglass_compile import CompiledBreakglass, compile_breakglass
from glassgate.config.grants import route_grant_groups
from glassgate.config.schema import Config, IssuerConfig, RouteConfig
from glassgate.config.strength import strength_levels
from glassgate.core.criteria import CRITERIA_ORDER
from glassgate.core.criteria.auth_age import AuthAgeConfig, compile_auth_age
from glassgate.core.criteria.auth_strength import StrengthLevel, compile_auth_strength
from glassgate.core.criteria.base import Check, CompiledCriterion
from glassgate.core.criteria.condition import compile_condition, compile_expression
from glassgate.core.criteria.groups import GroupsConfig, compile_groups
from glassgate.core.criteria.network import NetworkConfig, compile_network
from glassgate.core.criteria.scopes import ScopesConfig, compile_scopes
from glassgate.core.criteria.time_window import DAYS, TimeWindowConfig, compile_time_window
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.quota import QuotaTier
from glassgate.core.routes import PathPattern, RouteTarget

__all__ = ["CompiledConfig", "compile_config"]

Network = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class CompiledConfig:
    policy: Policy
    quota_tiers: Mapping[str, QuotaTier]
    trusted_proxies: tuple[Network, ...]
    forward_auth_peers: tuple[Network, ...] = ()
    breakglass: CompiledBreakglass | None = None  # None: no breakglass section


def compile_config(config: Config, env: Mapping[str, str] | None = None) -> CompiledConfig:
    levels = strength_levels(config.auth_strength)
    issuer_urls = {issuer.id: issuer for issuer in config.issuers}
    skew = max(issuer.leeway for issuer in config.issuers)
    granted = route_grant_groups(config.grants)
    targets = [
        _target(route, config, levels, issuer_urls, skew, granted.get(route.id, frozenset()))
        for route in config.routes
    ]
    tiers = {
        name: QuotaTier(
            name, tier.rate, tier.per, tier.burst, tier.key, tier.when_store_down == "open"
        )
        for name, tier in config.quotas.tiers.items()
    }
    proxies = tuple(ip_network(cidr) for cidr in config.trusted_proxies)
    door_peers = tuple(ip_network(cidr) for cidr in config.forward_auth.allowed_peers)
    breakglass = None
    if config.breakglass is not None:
        breakglass = compile_breakglass(
            config.breakglass, config, env or {}, alerts_required=config.alerts.required
        )
    return CompiledConfig(Policy.from_targets(targets), tiers, proxies, door_peers, breakglass)


def _target(
    route: RouteConfig,
    config: Config,
    levels: Mapping[str, StrengthLevel | None],
    issuers: Mapping[str, IssuerConfig],
    skew: float,
    granted: frozenset[str],
) -> RouteTarget[CompiledRoute]:
    """``granted``: the narrowed grant groups this route allows too (``config.grants``)."""
    compiled = CompiledRoute(
        id=route.id,
        criteria=_criteria(route, config, levels, skew, granted),
        upstream=route.upstream,
        issuers=frozenset(issuers[name].issuer for name in route.issuers),
        anonymous=route.anonymous,
        quota_tier=route.quota,
        report_only=route.enforcement == "report-only",
        pilot_groups=frozenset(route.pilot_groups),
        forward_groups=frozenset(route.allow.groups) | frozenset(route.deny.groups) | granted,
    )
    return RouteTarget(
        pattern=PathPattern.parse(route.match.path),
        methods=frozenset(route.match.methods),
        hosts=tuple(route.match.hosts),
        value=compiled,
    )


def _criteria(
    route: RouteConfig,
    config: Config,
    levels: Mapping[str, StrengthLevel | None],
    skew: float,
    granted: frozenset[str] = frozenset(),
) -> tuple[CompiledCriterion, ...]:
    require = route.require
    checks: dict[str, Check | None] = {
        "network": compile_network(
            NetworkConfig.from_cidrs(
                _cidrs(route.allow.networks, config), _cidrs(route.deny.networks, config)
            )
        ),
        "groups": compile_groups(
            GroupsConfig(frozenset(route.allow.groups) | granted, frozenset(route.deny.groups))
        ),
        "scopes": compile_scopes(ScopesConfig(frozenset(require.scopes))),
        "time_window": compile_time_window(_time_window(route)),
        "condition": compile_condition(
            compile_expression(require.condition) if require.condition is not None else None
        ),
        "auth_strength": compile_auth_strength(
            levels[require.auth_strength] if require.auth_strength is not None else None,
            int(require.max_auth_age) if require.max_auth_age is not None else None,
        ),
        "auth_age": compile_auth_age(
            AuthAgeConfig(int(require.max_auth_age), skew)
            if require.max_auth_age is not None
            else None
        ),
    }
    if checks.keys() != set(CRITERIA_ORDER):  # a criterion added here but not ordered, or back
        raise ValueError(f"criteria {sorted(checks)} do not match CRITERIA_ORDER")
    # Evaluation order is CRITERIA_ORDER's, whatever order they were compiled in.
    return tuple(
        CompiledCriterion(name, check)
        for name in CRITERIA_ORDER
        if (check := checks[name]) is not None
    )


def _cidrs(entries: tuple[str, ...], config: Config) -> tuple[str, ...]:
    out: list[str] = []
    for entry in entries:
        out.extend(config.networks.get(entry, (entry,)))
    return tuple(out)


def _time_window(route: RouteConfig) -> TimeWindowConfig | None:
    window = route.require.time_window
    if window is None:
        return None

    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return TimeWindowConfig(
        days=frozenset(DAYS.index(day) for day in window.days),
        start_minute=minutes(window.start),
        end_minute=minutes(window.end),
        zone=ZoneInfo(window.timezone),
    )
