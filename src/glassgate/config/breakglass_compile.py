"""Check and compile the ``breakglass`` section: located problems, then frozen values.

Checks see the whole config (route ids, named networks). Sealed credentials
are read here, once, at load: from a file (first line, trailing newline
dropped) or an environment variable. Their values become ``Secret`` and are
never shown in a problem message, a log line or an audit record.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from types import MappingProxyType
from urllib.parse import urlsplit

from glassgate.config.breakglass import BreakglassConfig, SealedCredentialConfig
from glassgate.config.checks import Finding, check_network_entries
from glassgate.config.schema import Config
from glassgate.config.source import Path
from glassgate.core.body_guard import BodyGuard, compile_body_guard
from glassgate.types import Secret
from glassgate.workflows.policy import AccountPolicy, BreakglassPolicy, Network

__all__ = [
    "CompiledBreakglass",
    "SealedCredential",
    "check_breakglass",
    "compile_breakglass",
    "read_sealed",
]

_MAX_SECRET_BYTES = 8192
_ROOT = "breakglass"


@dataclass(frozen=True, slots=True)
class SealedCredential:
    """A header the gateway adds upstream on one recovery route, for break-glass only."""

    header: bytes  # lower-case name
    value: Secret  # prefix + the secret read at load

    def __repr__(self) -> str:
        return f"SealedCredential({self.header!r}, value=***)"


@dataclass(frozen=True, slots=True)
class CompiledBreakglass:
    policy: BreakglassPolicy
    sealed: Mapping[str, SealedCredential]  # by route id
    guards: Mapping[str, BodyGuard]  # by route id
    groups: frozenset[str]
    acr: str
    amr: frozenset[str]


def read_sealed(config: SealedCredentialConfig, env: Mapping[str, str]) -> Secret:
    """The credential's header value; ``ValueError`` saying what is missing (never the value)."""
    if config.env is not None:
        raw = env.get(config.env)
        if not raw:
            raise ValueError(f"environment variable {config.env} is not set or empty")
    else:
        path = FilePath(config.file or "")
        try:
            data = path.read_bytes()[: _MAX_SECRET_BYTES + 1]
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from None
        if len(data) > _MAX_SECRET_BYTES:
            raise ValueError(f"{path} is larger than {_MAX_SECRET_BYTES} bytes")
        raw = data.decode("utf-8", "replace").splitlines()[0] if data.strip() else ""
        if not raw.strip():
            raise ValueError(f"{path} is empty")
    value = config.prefix + raw.strip()
    if not all(0x20 <= ord(char) < 0x7F for char in value):
        raise ValueError("the sealed credential must be printable ASCII (a header value)")
    return Secret(value)


def _networks(entries: tuple[str, ...], config: Config) -> tuple[Network, ...]:
    found: list[Network] = []
    for entry in entries:
        for cidr in config.networks.get(entry, (entry,)):
            found.append(ipaddress.ip_network(cidr, strict=True))
    return tuple(found)


def _check_names(bg: BreakglassConfig) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, account in enumerate(bg.accounts):
        if account.name in seen:
            yield ((_ROOT, "accounts", index, "name"), f"account '{account.name}' twice", "")
        seen.setdefault(account.name, index)
    for index, name in enumerate(bg.custodians):
        if name in bg.custodians[:index]:
            yield ((_ROOT, "custodians", index), f"custodian '{name}' is listed twice", "")
        if name in seen:
            yield (
                (_ROOT, "custodians", index),
                f"'{name}' is both a break-glass account and a custodian",
                "dual control needs different people: use another name",
            )
    if bg.accounts and bg.quorum > len(set(bg.custodians)):
        yield (
            (_ROOT, "quorum"),
            f"quorum {bg.quorum} needs at least {bg.quorum} custodians, "
            f"{len(set(bg.custodians))} listed",
            "list more custodians or lower the quorum",
        )


def _check_routes(
    bg: BreakglassConfig, config: Config, env: Mapping[str, str]
) -> Iterator[Finding]:
    route_ids = {route.id for route in config.routes}
    seen: set[str] = set()
    for index, recovery in enumerate(bg.recovery_routes):
        where: Path = (_ROOT, "recovery_routes", index)
        if recovery.route not in route_ids:
            yield ((*where, "route"), f"no route with id '{recovery.route}'", "")
        if recovery.route in seen:
            yield ((*where, "route"), f"route '{recovery.route}' is listed twice", "")
        seen.add(recovery.route)
        if recovery.credential is not None:
            try:
                read_sealed(recovery.credential, env)
            except ValueError as exc:
                yield ((*where, "credential"), str(exc), "")
        if recovery.guard is not None:
            try:
                compile_body_guard(recovery.guard.condition, recovery.guard.max_body_bytes)
            except ValueError as exc:
                yield ((*where, "guard", "condition"), f"invalid CEL: {str(exc)[:200]}", "")
    if bg.accounts and not bg.recovery_routes:
        yield ((_ROOT, "recovery_routes"), "accounts are configured but no recovery route", "")
    if bg.drill_route is not None:
        if bg.drill_route not in route_ids:
            yield ((_ROOT, "drill_route"), f"no route with id '{bg.drill_route}'", "")
        if bg.drill_route in seen:
            yield (
                (_ROOT, "drill_route"),
                "the drill route is also a recovery route",
                "a drill must reach a harmless route only",
            )


def _check_reachable(bg: BreakglassConfig, config: Config) -> Iterator[Finding]:
    """A recovery or drill route whose groups shut the session's own groups out is useless."""
    groups = set(bg.principal.groups)
    wanted: dict[str, Path] = {
        r.route: ("recovery_routes", i, "route") for i, r in enumerate(bg.recovery_routes)
    }
    if bg.drill_route is not None:
        wanted.setdefault(bg.drill_route, ("drill_route",))
    for route in config.routes:
        where = wanted.get(route.id)
        if where is None:
            continue
        allow, deny = set(route.allow.groups), set(route.deny.groups)
        if (allow and not allow & groups) or deny & groups:
            yield (
                (_ROOT, *where),
                f"route '{route.id}' would refuse break-glass sessions (their groups: "
                f"{', '.join(sorted(groups))})",
                "allow one of breakglass.principal.groups on it, and deny none",
            )


def check_breakglass(
    bg: BreakglassConfig | None, config: Config, env: Mapping[str, str]
) -> Iterator[Finding]:
    if bg is None:
        return
    yield from _check_names(bg)
    for index, account in enumerate(bg.accounts):
        yield from check_network_entries(
            account.networks, (_ROOT, "accounts", index, "networks"), config
        )
    yield from check_network_entries(bg.custodian_networks, (_ROOT, "custodian_networks"), config)
    yield from _check_routes(bg, config, env)
    yield from _check_reachable(bg, config)
    for index, origin in enumerate(bg.webauthn.origins):
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            yield ((_ROOT, "webauthn", "origins", index), "an origin is scheme://host[:port]", "")


def compile_breakglass(
    bg: BreakglassConfig, config: Config, env: Mapping[str, str], *, alerts_required: bool
) -> CompiledBreakglass:
    """Frozen values from a section that ``check_breakglass`` found no problem in."""
    accounts = {
        account.name: AccountPolicy(account.name, _networks(account.networks, config))
        for account in bg.accounts
    }
    policy = BreakglassPolicy(
        accounts=accounts,
        custodians=frozenset(bg.custodians),
        quorum=bg.quorum,
        recovery_routes=tuple(r.route for r in bg.recovery_routes),
        drill_route=bg.drill_route,
        session_ttl=bg.session.default,
        max_session=bg.session.max,
        request_ttl=bg.request_expiry,
        drill_interval=bg.drill_interval,
        use_summary_every=bg.use_summary_every,
        console_ttl=bg.console_session,
        alerts_required=alerts_required,
        custodian_networks=_networks(bg.custodian_networks, config),
    )
    sealed = {
        r.route: SealedCredential(
            r.credential.header.lower().encode("ascii"), read_sealed(r.credential, env)
        )
        for r in bg.recovery_routes
        if r.credential is not None
    }
    guards = {
        r.route: compile_body_guard(r.guard.condition, r.guard.max_body_bytes)
        for r in bg.recovery_routes
        if r.guard is not None
    }
    return CompiledBreakglass(
        policy,
        MappingProxyType(sealed),
        MappingProxyType(guards),
        frozenset(bg.principal.groups),
        bg.principal.acr,
        frozenset(bg.principal.amr),
    )
