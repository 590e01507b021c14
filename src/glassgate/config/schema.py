"""Typed config models: what each key of the YAML file means.

Every model forbids unknown keys (the loader turns them into errors with a
did-you-mean hint) and is frozen once built. Cross-field rules live in
``config.checks``; compilation into core objects in ``config.compile``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from glassgate.config._model import Model
from glassgate.config._units import CIDR, Duration
from glassgate.config.alerts import AlertsConfig
from glassgate.config.audit import AuditConfig
from glassgate.config.breakglass import BreakglassConfig
from glassgate.config.directory import DirectoryConfig, ScimConfig
from glassgate.config.grants import GrantsConfig
from glassgate.config.quotas import QuotasConfig, QuotaTierConfig
from glassgate.config.storage import StorageConfig

__all__ = [
    "SAFE_ALGORITHMS",
    "ApiKeysConfig",
    "ClaimsConfig",
    "Config",
    "ConsoleConfig",
    "ConsoleOidcConfig",
    "ForwardAuthConfig",
    "GroupsNetworks",
    "IntrospectionConfig",
    "IssuerConfig",
    "JwksConfig",
    "LimitsConfig",
    "MatchConfig",
    "ObservabilityConfig",
    "QuotaTierConfig",
    "RequireConfig",
    "RouteConfig",
    "StrengthLevelConfig",
    "TimeWindowConfig",
    "UpstreamConfig",
]

SAFE_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
Algorithm = Literal["RS256", "PS256", "ES256", "EdDSA"]
_INTERNAL_PATH = r"^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$"
Identifier = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class JwksConfig(Model):
    """How an issuer's signing keys are fetched and how long the last good set is trusted."""

    refresh_interval: Duration = 300.0
    max_staleness: Duration = 86400.0
    unknown_kid_min_interval: Duration = 10.0
    fetch_timeout: Duration = 5.0
    max_document_bytes: int = Field(default=256 * 1024, ge=1024, le=4 * 1024 * 1024)


class ClaimsConfig(Model):
    """Where groups and scopes are found in the token (dotted paths)."""

    groups: str = "groups"
    scopes: str = "scp"
    scope_string: str = "scope"


class IntrospectionConfig(Model):
    """RFC 7662 introspection for opaque tokens.

    ``negative_cache_ttl`` remembers a refused token that long (0 turns it
    off); ``max_concurrency`` bounds the calls in flight to the IdP, and a
    lookup that waits ``timeout`` for a slot is answered 503.
    """

    endpoint: str | None = None
    client_id: str
    client_secret: SecretStr
    cache_ttl: Duration = 60.0
    cache_size: int = Field(default=10_000, ge=1, le=1_000_000)
    negative_cache_ttl: Duration = Field(default=5.0, le=300.0)
    max_concurrency: int = Field(default=16, ge=1, le=1024)
    timeout: Duration = 5.0


class IssuerConfig(Model):
    """One trusted token issuer; ``issuer`` is compared to ``iss`` exactly."""

    id: str = Identifier
    issuer: str = Field(min_length=1)
    audiences: tuple[str, ...] = Field(min_length=1)
    algorithms: tuple[Algorithm, ...] = ("RS256", "ES256")
    discovery_url: str | None = None
    jwks_uri: str | None = None
    token_type: Literal["at+jwt"] | None = None
    leeway: Duration = Field(default=30.0, le=60.0)
    claims: ClaimsConfig = ClaimsConfig()
    jwks: JwksConfig = JwksConfig()
    introspection: IntrospectionConfig | None = None


class UpstreamConfig(Model):
    id: str = Identifier
    targets: tuple[str, ...] = Field(min_length=1)
    balance: Literal["round_robin", "least_connections"] = "round_robin"
    connect_timeout: Duration = 5.0
    read_timeout: Duration = 60.0
    retries: int = Field(default=1, ge=0, le=5)
    health_check_path: str | None = None
    health_check_interval: Duration = 10.0


class MatchConfig(Model):
    """Which requests a route covers; ``path`` is a whole-segment pattern."""

    path: str = Field(min_length=1)
    methods: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()


class GroupsNetworks(Model):
    groups: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()


class TimeWindowConfig(Model):
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    )
    start: str = Field(default="00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(default="24:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    timezone: str = "UTC"


class RequireConfig(Model):
    scopes: tuple[str, ...] = ()
    auth_strength: str | None = None
    max_auth_age: Duration | None = None
    time_window: TimeWindowConfig | None = None
    condition: str | None = None


class RouteConfig(Model):
    id: str = Identifier
    match: MatchConfig
    upstream: str | None = None
    issuers: tuple[str, ...] = ()
    anonymous: bool = False
    allow: GroupsNetworks = GroupsNetworks()
    deny: GroupsNetworks = GroupsNetworks()
    require: RequireConfig = RequireConfig()
    quota: str | None = None
    enforcement: Literal["enforce", "report-only"] = "enforce"
    pilot_groups: tuple[str, ...] = ()


class StrengthLevelConfig(Model):
    """A level is met when ``acr`` is listed, or ``amr`` holds any of ``amr``,
    or ``amr`` holds all of ``amr_all`` (when given)."""

    acr: tuple[str, ...] = ()
    amr: tuple[str, ...] = ()
    amr_all: tuple[str, ...] = ()


class LimitsConfig(Model):
    """Request sizes, and the connection limits the data-plane listener enforces.

    The connection limits stop slow and idle clients from holding the process:
    the whole request head must arrive within ``header_timeout`` (408), a whole
    request body within ``body_timeout`` (408), an idle keep-alive connection is
    closed after ``keepalive_timeout``, and a connection over ``max_connections``
    is answered 503 and closed at once. They are read at start (a reload keeps
    the listener's), and every one has a floor and a ceiling: a zero timeout
    would refuse everything, an unbounded one is the hole they close. A
    WebSocket tunnel has its own idle timeout and maximum lifetime.
    """

    max_token_bytes: int = Field(default=16 * 1024, ge=1024, le=64 * 1024)
    max_header_bytes: int = Field(default=32 * 1024, ge=4096, le=256 * 1024)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    header_timeout: Duration = Field(default=10.0, ge=0.5, le=300.0)
    keepalive_timeout: Duration = Field(default=5.0, ge=0.5, le=3600.0)
    body_timeout: Duration = Field(default=60.0, ge=1.0, le=86_400.0)
    max_connections: int = Field(default=1000, ge=8, le=1_000_000)
    # WebSocket tunnels (adapters/http/websocket.py): closed after this long with no
    # message either way, and after this long in all (read per tunnel, so a reload applies).
    websocket_idle_timeout: Duration = Field(default=300.0, ge=1.0, le=86_400.0)
    websocket_max_lifetime: Duration = Field(default=86_400.0, ge=1.0, le=7 * 86_400.0)


class ForwardAuthConfig(Model):
    """The forward-auth door (nginx auth_request, Caddy, Traefik, Envoy ext_authz).

    Off by default: it answers "is this request allowed?" for any method and
    path a caller names, and hands out signed identity tokens, so only the TCP
    peers in ``allowed_peers`` may call it (default: none). That list is the
    door's own, apart from ``trusted_proxies`` (whose ``X-Forwarded-For`` is
    believed): a load balancer listed there must not let every client behind
    it ask the door. Each allowed peer must also be a trusted proxy, since the
    door learns the client's address from its ``X-Forwarded-For``.
    """

    enabled: bool = False
    path: str = Field(default="/_glassgate/auth", pattern=_INTERNAL_PATH)
    ext_authz_prefix: str = Field(default="/_glassgate/ext_authz", pattern=_INTERNAL_PATH)
    allowed_peers: tuple[CIDR, ...] = ()


class ObservabilityConfig(Model):
    """Metrics and the access/decision log (``adapters.observability``).

    ``GET <metrics_path>`` is answered only to a client connecting directly
    from ``metrics_allow``; everyone else (and any request carrying proxy
    forwarding headers) gets 404, as if the endpoint did not exist. A proxy on
    an allowed address that does not add ``X-Forwarded-For`` would let its
    clients through, so keep proxies' addresses out of ``metrics_allow``.
    ``decision_log_sample`` thins out the log lines of allowed requests only;
    denials, challenges, rate limits and rejected requests are always logged.
    """

    metrics: bool = True
    metrics_path: str = Field(default="/metrics", pattern=_INTERNAL_PATH)
    metrics_allow: tuple[CIDR, ...] = ("127.0.0.0/8", "::1/128")
    access_log: bool = True
    decision_log_sample: float = Field(default=1.0, ge=0.0, le=1.0)


class ApiKeysConfig(Model):
    """Machine API keys (``glassgate apikey``), looked up in ``storage``.

    Off by default: the gateway then opens no database for them and refuses
    every ``gg_`` credential (``api-key-disabled``); it never passes one to an
    IdP. Lookups are cached, so a revocation takes effect on every instance
    within ``cache_ttl``; "no such key" is cached for ``negative_cache_ttl`` in
    a separate, smaller table, so a flood of made-up keys cannot evict real
    ones or grow memory.
    """

    enabled: bool = False
    cache_ttl: Duration = Field(default=5.0, le=60.0)
    negative_cache_ttl: Duration = Field(default=2.0, le=60.0)
    cache_size: int = Field(default=10_000, ge=1, le=1_000_000)
    negative_cache_size: int = Field(default=1_000, ge=1, le=100_000)


class SignInLimitsConfig(Model):
    """Console sign-in attempts allowed within ``window``, per client address and per account.

    Each is a GCRA bucket: ``per_address`` attempts at once, then one every
    ``window / per_address``; the same for ``per_account``. Only attempts from
    an address the account may sign in from count against the account.
    """

    per_address: int = Field(default=30, ge=1, le=10_000)
    per_account: int = Field(default=5, ge=1, le=1_000)
    window: Duration = Field(default=900.0, gt=0, le=86_400)


class ConsoleOidcConfig(Model):
    """Console sign-in through the IdP: OIDC authorization code flow with PKCE (issue 13).

    ``issuer`` names one of ``issuers[].id``: its discovery document gives the
    endpoints, and its keys (the gate's) verify the ID token, whose audience
    must be ``client_id``. ``redirect_uri`` is the console's
    ``/sign-in/idp/callback`` as the browser reaches it, registered at the IdP.
    A change takes effect on restart, like the rest of ``console``.
    """

    issuer: str = Identifier
    client_id: str = Field(min_length=1, max_length=256)
    client_secret: SecretStr
    redirect_uri: str = Field(pattern=r"^https?://[^\s#]+/sign-in/idp/callback$", max_length=2048)
    scopes: tuple[str, ...] = ("openid", "groups")
    session_ttl: Duration = Field(default=8 * 3600.0, gt=0, le=86_400)


class ConsoleConfig(Model):
    """The web console (``glassgate.web``): its own listener, in the gateway's process.

    Off by default. It never shares the data-plane port (``listen``): the
    console and the gateway are different audiences with different exposure,
    so keep ``console.listen`` on loopback or a management network. A change
    of ``listen`` takes effect on restart.

    ``csrf_secret`` signs the CSRF cookie; without it each process picks a random
    one (tokens then do not survive a restart). Set it (``${ENV}``) when several
    instances serve the console behind one load balancer.
    """

    enabled: bool = False
    listen: str = "127.0.0.1:8081"
    csrf_secret: SecretStr | None = Field(default=None, min_length=32)
    sign_in_limits: SignInLimitsConfig = SignInLimitsConfig()
    oidc: ConsoleOidcConfig | None = None  # sign-in through the IdP; None: local sign-in only


class Config(Model):
    """The root of the configuration file."""

    version: Literal[1] = 1
    listen: str = "127.0.0.1:8080"
    issuers: tuple[IssuerConfig, ...] = Field(min_length=1)
    upstreams: tuple[UpstreamConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    networks: dict[str, tuple[CIDR, ...]] = Field(default_factory=dict)
    auth_strength: dict[str, StrengthLevelConfig] = Field(default_factory=dict)
    quotas: QuotasConfig = QuotasConfig()
    trusted_proxies: tuple[CIDR, ...] = ()
    limits: LimitsConfig = LimitsConfig()
    forward_auth: ForwardAuthConfig = ForwardAuthConfig()
    storage: StorageConfig = StorageConfig()
    audit: AuditConfig = AuditConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    api_keys: ApiKeysConfig = ApiKeysConfig()
    console: ConsoleConfig = ConsoleConfig()
    directory: DirectoryConfig = DirectoryConfig()
    scim: ScimConfig = ScimConfig()
    alerts: AlertsConfig = AlertsConfig()
    breakglass: BreakglassConfig | None = None  # the locked break-glass policy; None: off
    grants: GrantsConfig = GrantsConfig()  # just-in-time grants; off while it has no types
