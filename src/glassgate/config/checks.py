"""Cross-field rules: contradictions that no single field can see.

Each check yields ``(path, message, hint)``; the loader attaches file and line.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cel

from glassgate.config.grants import GrantTypeConfig
from glassgate.config.schema import Config, RouteConfig
from glassgate.config.source import Path
from glassgate.config.strength import strength_levels
from glassgate.core.routes import PathPattern

__all__ = ["Finding", "check_config", "check_network_entries"]

Finding = tuple[Path, str, str]

_METHOD = re.compile(r"^[A-Z][A-Z0-9!#$%&'*+.^_`|~-]{0,31}$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def check_config(config: Config) -> list[Finding]:
    findings: list[Finding] = []
    checks = (
        _unique_ids,
        _issuers,
        _named_networks,
        _forward_auth,
        _upstreams,
        _listen,
        _routes,
        _directory,
        _grants,
        _console_oidc,
        _quota_store,
    )
    for check in checks:
        findings.extend(check(config))
    return findings


def _quota_store(config: Config) -> Iterator[Finding]:
    """A Redis quota store needs redis-py, an optional extra: say so before start."""
    if config.quotas.store.redis is not None and importlib.util.find_spec("redis") is None:
        yield (
            ("quotas", "store", "redis"),
            "the Redis quota store needs the redis package, which is not installed",
            "pip install 'glassgate[redis]'",
        )


def _unique_ids(config: Config) -> Iterator[Finding]:
    sections: tuple[tuple[str, list[str]], ...] = (
        ("issuers", [item.id for item in config.issuers]),
        ("upstreams", [item.id for item in config.upstreams]),
        ("routes", [item.id for item in config.routes]),
    )
    for section, ids in sections:
        seen: dict[str, int] = {}
        for index, item_id in enumerate(ids):
            if item_id in seen:
                yield (
                    (section, index, "id"),
                    f"duplicate id '{item_id}' (first at {section}[{seen[item_id]}])",
                    "every id must be unique",
                )
            seen.setdefault(item_id, index)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _issuers(config: Config) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, issuer in enumerate(config.issuers):
        if not _is_http_url(issuer.issuer):
            yield (("issuers", index, "issuer"), "the issuer must be an http(s) URL", "")
        if issuer.issuer in seen:
            yield (("issuers", index, "issuer"), "this issuer URL is configured twice", "")
        seen.add(issuer.issuer)
        for field in ("discovery_url", "jwks_uri"):
            value = getattr(issuer, field)
            if value is not None and not _is_http_url(value):
                yield (("issuers", index, field), "must be an http(s) URL", "")
        if len(set(issuer.algorithms)) != len(issuer.algorithms):
            yield (("issuers", index, "algorithms"), "an algorithm is listed twice", "")


def _forward_auth(config: Config) -> Iterator[Finding]:
    door = config.forward_auth
    if door.enabled and not door.allowed_peers:
        yield (
            ("forward_auth", "allowed_peers"),
            "the forward-auth door answers only forward_auth.allowed_peers, and none are listed",
            "list the address of the proxy that calls it, e.g. allowed_peers: [127.0.0.1/32]",
        )
    trusted = [ipaddress.ip_network(cidr) for cidr in config.trusted_proxies]
    for index, cidr in enumerate(door.allowed_peers):
        peers = ipaddress.ip_network(cidr)
        if not any(
            peers.version == proxy.version and peers.subnet_of(proxy)  # type: ignore[arg-type]
            for proxy in trusted
        ):
            yield (
                ("forward_auth", "allowed_peers", index),
                f"{cidr} is not inside trusted_proxies: the door reads the client's address "
                "from the caller's X-Forwarded-For, which is believed only from trusted proxies",
                "add the same network to trusted_proxies",
            )


def _named_networks(config: Config) -> Iterator[Finding]:
    for name, cidrs in config.networks.items():
        if not cidrs:
            yield (
                ("networks", name),
                f"the named network '{name}' is empty",
                "an empty zone would restrict nothing; list at least one CIDR",
            )


def _upstreams(config: Config) -> Iterator[Finding]:
    for index, upstream in enumerate(config.upstreams):
        for t_index, target in enumerate(upstream.targets):
            parts = urlsplit(target)
            if not _is_http_url(target) or parts.query or parts.fragment:
                yield (
                    ("upstreams", index, "targets", t_index),
                    "a target must be an http(s) URL such as http://10.0.0.5:8080",
                    "no query or fragment",
                )


def _listen(config: Config) -> Iterator[Finding]:
    gateway = _address(config.listen)
    if gateway is None:
        yield (("listen",), "listen must be IP:PORT, e.g. 127.0.0.1:8080", "")
    console = _address(config.console.listen)
    if console is None:
        yield (("console", "listen"), "console.listen must be IP:PORT, e.g. 127.0.0.1:8081", "")
    shared = gateway is not None and console is not None and _overlap(gateway, console)
    if config.console.enabled and shared:
        yield (
            ("console", "listen"),
            f"the console cannot share the data-plane address {config.listen}",
            "give the console its own port, e.g. 127.0.0.1:8081",
        )


def _directory(config: Config) -> Iterator[Finding]:
    """Protected minimums in range; merge issuers configured; SCIM only on the console."""
    for name, minimum in config.directory.protected_groups.items():
        if not name.strip() or not 1 <= minimum <= 1000:
            yield (
                ("directory", "protected_groups", name),
                "a protected group needs a name and a minimum from 1 to 1000",
                "e.g. protected_groups: {Admins: 2}",
            )
    known = {issuer.issuer for issuer in config.issuers}
    for issuer in config.directory.merge_groups.issuers:
        if issuer not in known:
            yield (
                ("directory", "merge_groups", "issuers", issuer),
                "not one of the configured issuers (issuers[].issuer)",
                f"known: {', '.join(sorted(known))}",
            )
    merge = config.directory.merge_groups
    if merge.enabled and not merge.issuers:
        yield (
            ("directory", "merge_groups", "issuers"),
            "merge_groups is enabled but names no issuer",
            "map each issuer to the user field its tokens' sub matches: id, externalId or userName",
        )
    if config.scim.enabled and not config.console.enabled:
        yield (
            ("scim", "enabled"),
            "SCIM is served on the console listener, which is not enabled",
            "set console.enabled: true (and console.listen to a management address)",
        )


def _address(listen: str) -> tuple[str, int] | None:
    """(host, port) of an ``IP:PORT`` (or ``localhost:PORT``), None if it is not one."""
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not (sep and port.isdigit() and 0 < int(port) < 65536):
        return None
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return None
    return host, int(port)


def _overlap(first: tuple[str, int], second: tuple[str, int]) -> bool:
    """Same port, and the same host or a wildcard host on either side."""
    wildcards = {"0.0.0.0", "::"}  # noqa: S104 - compared against, never bound here
    hosts = {first[0], second[0]}
    return first[1] == second[1] and (len(hosts) == 1 or bool(hosts & wildcards))


def _routes(config: Config) -> Iterator[Finding]:
    upstreams = {u.id for u in config.upstreams}
    issuers = {i.id for i in config.issuers}
    levels = strength_levels(config.auth_strength)
    for index, route in enumerate(config.routes):
        base: Path = ("routes", index)
        if route.upstream is not None and route.upstream not in upstreams:
            yield (
                (*base, "upstream"),
                f"unknown upstream '{route.upstream}'",
                f"known upstreams: {', '.join(sorted(upstreams)) or 'none'}",
            )
        for i, name in enumerate(route.issuers):
            if name not in issuers:
                yield ((*base, "issuers", i), f"unknown issuer '{name}'", "use an issuer id")
        yield from _match(route, base)
        yield from _groups(route, base)
        yield from _networks(route, base, config)
        yield from _require(route, base, levels, config)


def _match(route: RouteConfig, base: Path) -> Iterator[Finding]:
    try:
        PathPattern.parse(route.match.path)
    except ValueError as exc:
        yield ((*base, "match", "path"), str(exc), "e.g. /api/*")
    for i, method in enumerate(route.match.methods):
        if not _METHOD.match(method):
            yield ((*base, "match", "methods", i), f"'{method}' is not a method", "upper case")
    for i, host in enumerate(route.match.hosts):
        if not _HOST.match(host):
            yield ((*base, "match", "hosts", i), f"'{host}' is not a host name", "lower case")


def _groups(route: RouteConfig, base: Path) -> Iterator[Finding]:
    allowed = set(route.allow.groups)
    for i, group in enumerate(route.deny.groups):
        if group in allowed:
            yield (
                (*base, "deny", "groups", i),
                f"group '{group}' is both allowed and denied on this route",
                "deny always wins; remove it from one list",
            )


def _networks(route: RouteConfig, base: Path, config: Config) -> Iterator[Finding]:
    for side in ("allow", "deny"):
        yield from check_network_entries(
            getattr(route, side).networks, (*base, side, "networks"), config
        )


def check_network_entries(
    entries: tuple[str, ...], base: Path, config: Config
) -> Iterator[Finding]:
    """Each entry a CIDR or a name from ``networks:`` (routes, break-glass accounts)."""
    for i, entry in enumerate(entries):
        if entry in config.networks:
            continue
        try:
            ipaddress.ip_network(entry, strict=True)
        except ValueError:
            yield (
                (*base, i),
                f"'{entry}' is neither a CIDR nor a named network",
                f"named networks: {', '.join(sorted(config.networks)) or 'none'}",
            )


def _require(
    route: RouteConfig, base: Path, levels: Mapping[str, object], config: Config
) -> Iterator[Finding]:
    require = route.require
    if require.auth_strength is not None and require.auth_strength not in levels:
        yield (
            (*base, "require", "auth_strength"),
            f"unknown strength level '{require.auth_strength}'",
            f"known levels: {', '.join(sorted(levels))}",
        )
    if require.time_window is not None:
        try:
            ZoneInfo(require.time_window.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield (
                (*base, "require", "time_window", "timezone"),
                f"unknown time zone '{require.time_window.timezone}'",
                "use an IANA name such as Europe/Berlin",
            )
    if require.condition is not None:
        try:
            cel.compile(require.condition)
        except (ValueError, RuntimeError) as exc:
            yield ((*base, "require", "condition"), f"CEL: {str(exc).splitlines()[0]}", "")
    tiers = config.quotas.tiers
    if route.quota is not None and route.quota not in tiers:
        yield (
            (*base, "quota"),
            f"unknown quota tier '{route.quota}'",
            f"known tiers: {', '.join(sorted(tiers)) or 'none'}",
        )
    restricted = (
        route.allow != type(route.allow)()
        or route.deny != type(route.deny)()
        or require != type(require)()
        or route.issuers
        or route.quota is not None
    )
    if route.anonymous and restricted:
        yield (
            (*base, "anonymous"),
            "an anonymous route is open to everyone: it cannot also restrict groups, "
            "networks, issuers, quotas or authentication",
            "remove anonymous, or the route's restrictions",
        )


def _console_oidc(config: Config) -> Iterator[Finding]:
    """The IdP sign-in names a configured issuer and asks for ``openid``."""
    oidc = config.console.oidc
    if oidc is None:
        return
    known = [issuer.id for issuer in config.issuers]
    if oidc.issuer not in known:
        yield (
            ("console", "oidc", "issuer"),
            f"'{oidc.issuer}' is not one of the configured issuers",
            f"name an issuers[].id: {', '.join(known)}",
        )
    if "openid" not in oidc.scopes:
        yield ("console", "oidc", "scopes"), "OpenID Connect needs the 'openid' scope", "add it"


def _grants(config: Config) -> Iterator[Finding]:
    """Unique grant type ids; approval strengths that exist; no empty group names."""
    levels = strength_levels(config.auth_strength)
    routes = {route.id: route for route in config.routes}
    seen: set[str] = set()
    for index, grant in enumerate(config.grants.types):
        where = ("grants", "types", index)
        yield from _grant_routes(grant, where, routes)
        if grant.id in seen:
            yield (*where, "id"), f"duplicate grant type id '{grant.id}'", "every id must be unique"
        seen.add(grant.id)
        strength = grant.approval.strength
        if strength is not None and strength not in levels:
            yield (
                (*where, "approval", "strength"),
                f"unknown strength level '{strength}'",
                f"known: {', '.join(sorted(levels))}",
            )
        for position, name in enumerate(grant.requesters):
            if not name.strip():
                yield (*where, "requesters", position), "a group name is empty", "name a group"
    for position, name in enumerate(config.grants.admins):
        if not name.strip():
            yield ("grants", "admins", position), "a group name is empty", "name a group"


def _grant_routes(
    grant: GrantTypeConfig, where: Path, routes: Mapping[str, RouteConfig]
) -> Iterator[Finding]:
    """A type names a group or routes; its routes exist and admit only some groups."""
    if grant.group is None and not grant.routes:
        yield (
            where,
            "a grant type needs a 'group', 'routes', or both",
            "group: the group it adds; routes: the only routes where it counts",
        )
    for position, name in enumerate(grant.routes):
        route = routes.get(name)
        if route is None:
            hint = f"known: {', '.join(sorted(routes)) or 'none'}"
            yield (*where, "routes", position), f"no route '{name}'", hint
        elif not route.allow.groups:
            yield (
                (*where, "routes", position),
                f"route '{name}' allows every caller already (no allow.groups)",
                "grants open routes that admit some groups only",
            )
