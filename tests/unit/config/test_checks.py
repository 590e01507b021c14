"""config.checks (and the schema rules next to them): every rule, located by path and line.

Each case is a whole config file; the line that must be blamed ends with ``#<``.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError, Problem

FILE = "gate.yaml"

BASE = """\
version: 1
listen: 127.0.0.1:8080
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
upstreams:
  - id: app
    targets: [http://127.0.0.1:9000]
networks:
  office: [10.1.0.0/16]
quotas:
  standard: {rate: 10, per: 1s, burst: 20}
"""


def _text(case: str) -> str:
    case = dedent(case)
    return case if case.startswith("version:") else BASE + case


def _marked_line(text: str) -> int:
    marked = [n for n, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith("#<")]
    assert len(marked) == 1, "a case marks exactly one line with #<"
    return marked[0]


def _problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, FILE, {})
    return info.value.problems


CASES = [
    # --- unique ids -------------------------------------------------------------------------
    (
        "duplicate-route-id",
        """
        routes:
          - id: r
            match: {path: /a/*}
          - id: r  #<
            match: {path: /b/*}
        """,
        "routes[1].id",
        "duplicate id 'r' (first at routes[0])",
    ),
    (
        "duplicate-issuer-id",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
          - id: idp  #<
            issuer: http://127.0.0.1:9401
            audiences: [api://gateway]
        """,
        "issuers[1].id",
        "duplicate id 'idp' (first at issuers[0])",
    ),
    (
        "duplicate-upstream-id",
        """\
        version: 1
        issuers: [{id: idp, issuer: "http://127.0.0.1:9400", audiences: [api://gateway]}]
        upstreams:
          - id: app
            targets: [http://127.0.0.1:9000]
          - id: app  #<
            targets: [http://127.0.0.1:9001]
        """,
        "upstreams[1].id",
        "duplicate id 'app' (first at upstreams[0])",
    ),
    # --- issuers ----------------------------------------------------------------------------
    (
        "duplicate-issuer-url",
        """\
        version: 1
        issuers:
          - id: one
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
          - id: two
            issuer: http://127.0.0.1:9400  #<
            audiences: [api://gateway]
        """,
        "issuers[1].issuer",
        "this issuer URL is configured twice",
    ),
    (
        "issuer-not-a-url",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: idp.example.com  #<
            audiences: [api://gateway]
        """,
        "issuers[0].issuer",
        "the issuer must be an http(s) URL",
    ),
    (
        "discovery-url-not-http",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            discovery_url: file:///etc/passwd  #<
        """,
        "issuers[0].discovery_url",
        "must be an http(s) URL",
    ),
    (
        "jwks-uri-without-host",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            jwks_uri: "https:///jwks"  #<
        """,
        "issuers[0].jwks_uri",
        "must be an http(s) URL",
    ),
    (
        "duplicate-algorithm",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            algorithms: [RS256, ES256, RS256]  #<
        """,
        "issuers[0].algorithms",
        "an algorithm is listed twice",
    ),
    (
        "issuer-without-audiences",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: []  #<
        """,
        "issuers[0].audiences",
        "Tuple should have at least 1 item after validation, not 0",
    ),
    (
        "hs256-algorithm",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            algorithms:
              - RS256
              - HS256  #<
        """,
        "issuers[0].algorithms[1]",
        "Input should be 'RS256', 'PS256', 'ES256' or 'EdDSA'",
    ),
    (
        "none-algorithm",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            algorithms:
              - none  #<
        """,
        "issuers[0].algorithms[0]",
        "Input should be 'RS256', 'PS256', 'ES256' or 'EdDSA'",
    ),
    (
        "leeway-over-60s",
        """\
        version: 1
        issuers:
          - id: idp
            issuer: http://127.0.0.1:9400
            audiences: [api://gateway]
            leeway: 2m  #<
        """,
        "issuers[0].leeway",
        "Input should be less than or equal to 60",
    ),
    # --- listen and upstreams ---------------------------------------------------------------
    (
        "upstream-target-ftp",
        """\
        version: 1
        issuers: [{id: idp, issuer: "http://127.0.0.1:9400", audiences: [api://gateway]}]
        upstreams:
          - id: app
            targets:
              - http://127.0.0.1:9000
              - ftp://127.0.0.1/  #<
        """,
        "upstreams[0].targets[1]",
        "a target must be an http(s) URL such as http://10.0.0.5:8080",
    ),
    # --- routes -----------------------------------------------------------------------------
    (
        "unknown-upstream",
        """
        routes:
          - id: r
            match: {path: /a/*}
            upstream: nope  #<
        """,
        "routes[0].upstream",
        "unknown upstream 'nope'",
    ),
    (
        "unknown-issuer",
        """
        routes:
          - id: r
            match: {path: /a/*}
            issuers:
              - idp
              - http://127.0.0.1:9400  #<
        """,
        "routes[0].issuers[1]",
        "unknown issuer 'http://127.0.0.1:9400'",
    ),
    (
        "group-allowed-and-denied",
        """
        routes:
          - id: ok
            match: {path: /ok/*}
          - id: r
            match: {path: /a/*}
            allow:
              groups: [Analysts, Contractors]
            deny:
              groups:
                - Interns
                - Contractors  #<
        """,
        "routes[1].deny.groups[1]",
        "group 'Contractors' is both allowed and denied on this route",
    ),
    (
        "cidr-with-host-bits",
        """
        routes:
          - id: r
            match: {path: /a/*}
            allow:
              networks:
                - 10.0.0.1/8  #<
        """,
        "routes[0].allow.networks[0]",
        "'10.0.0.1/8' is neither a CIDR nor a named network",
    ),
    (
        "cidr-out-of-range",
        """
        routes:
          - id: r
            match: {path: /a/*}
            allow:
              networks:
                - office
                - 300.0.0.0/8  #<
        """,
        "routes[0].allow.networks[1]",
        "'300.0.0.0/8' is neither a CIDR nor a named network",
    ),
    (
        "unknown-named-network",
        """
        routes:
          - id: r
            match: {path: /a/*}
            deny:
              networks:
                - corp  #<
        """,
        "routes[0].deny.networks[0]",
        "'corp' is neither a CIDR nor a named network",
    ),
    (
        "bad-cidr-in-named-network",
        """\
        version: 1
        issuers: [{id: idp, issuer: "http://127.0.0.1:9400", audiences: [api://gateway]}]
        networks:
          corp:
            - 10.0.0.0/8
            - 10.0.0.1/8  #<
        """,
        "networks.corp[1]",
        "not a valid CIDR network: 10.0.0.1/8 has host bits set",
    ),
    (
        "unknown-strength-level",
        """
        routes:
          - id: r
            match: {path: /a/*}
            require:
              auth_strength: mfa2  #<
        """,
        "routes[0].require.auth_strength",
        "unknown strength level 'mfa2'",
    ),
    (
        "cel-syntax-error",
        """
        routes:
          - id: r
            match: {path: /a/*}
            require:
              condition: "claims.department =="  #<
        """,
        "routes[0].require.condition",
        "CEL: Failed to parse expression 'claims.department ==': ERROR: <input>:1:21: "
        "Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', "
        "'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
    ),
    (
        "unknown-time-zone",
        """
        routes:
          - id: r
            match: {path: /a/*}
            require:
              time_window:
                start: "08:00"
                timezone: Mars/Olympus_Mons  #<
        """,
        "routes[0].require.time_window.timezone",
        "unknown time zone 'Mars/Olympus_Mons'",
    ),
    (
        "time-zone-path-traversal",
        """
        routes:
          - id: r
            match: {path: /a/*}
            require:
              time_window: {timezone: ../../etc/passwd}  #<
        """,
        "routes[0].require.time_window.timezone",
        "unknown time zone '../../etc/passwd'",
    ),
    (
        "unknown-quota-tier",
        """
        routes:
          - id: r
            match: {path: /a/*}
            quota: premium  #<
        """,
        "routes[0].quota",
        "unknown quota tier 'premium'",
    ),
    (
        "anonymous-with-groups",
        """
        routes:
          - id: r
            match: {path: /a/*}
            anonymous: true  #<
            allow: {groups: [Admins]}
        """,
        "routes[0].anonymous",
        "an anonymous route is open to everyone: it cannot also restrict groups, "
        "networks, issuers, quotas or authentication",
    ),
    (
        "anonymous-with-deny-groups",
        """
        routes:
          - id: r
            match: {path: /a/*}
            deny: {groups: [Contractors]}
            anonymous: true  #<
        """,
        "routes[0].anonymous",
        "an anonymous route is open to everyone: it cannot also restrict groups, "
        "networks, issuers, quotas or authentication",
    ),
    (
        "anonymous-with-strength",
        """
        routes:
          - id: r
            anonymous: true  #<
            match: {path: /a/*}
            require: {auth_strength: mfa}
        """,
        "routes[0].anonymous",
        "an anonymous route is open to everyone: it cannot also restrict groups, "
        "networks, issuers, quotas or authentication",
    ),
    (
        "bad-path-pattern",
        """
        routes:
          - id: r
            match:
              path: /api*  #<
        """,
        "routes[0].match.path",
        "'*' must stand for a whole segment, as in /api/*/items",
    ),
    (
        "relative-path-pattern",
        """
        routes:
          - id: r
            match:
              path: api/*  #<
        """,
        "routes[0].match.path",
        "a path pattern must start with '/'",
    ),
    (
        "lower-case-method",
        """
        routes:
          - id: r
            match:
              path: /a/*
              methods:
                - get  #<
        """,
        "routes[0].match.methods[0]",
        "'get' is not a method",
    ),
    (
        "upper-case-host",
        """
        routes:
          - id: r
            match:
              path: /a/*
              hosts:
                - API.example.com  #<
        """,
        "routes[0].match.hosts[0]",
        "'API.example.com' is not a host name",
    ),
]


# A nested error inside the only issuer must not also report the list as too short.
_HIT_BY_SPURIOUS_TOO_SHORT = {"issuer-without-audiences", "leeway-over-60s"}


@pytest.mark.parametrize(
    ("case", "location", "message"),
    [
        pytest.param(
            case,
            loc,
            msg,
            id=f"case={name}",
        )
        for name, case, loc, msg in CASES
    ],
)
def test_rule_is_located(case: str, location: str, message: str) -> None:
    text = _text(case)
    problems = _problems(text)
    assert [(p.location, p.line, p.message) for p in problems] == [
        (location, _marked_line(text), message)
    ]
    assert problems[0].file == FILE
    assert problems[0].render().startswith(f"{FILE}:{_marked_line(text)}: {location}: ")


@pytest.mark.parametrize(
    ("listen", "valid"),
    [
        pytest.param("127.0.0.1:8080", True, id="case=ipv4"),
        pytest.param("0.0.0.0:443", True, id="case=any"),
        pytest.param("[::1]:8080", True, id="case=ipv6"),
        pytest.param("localhost:8080", True, id="case=localhost"),
        pytest.param("8080", False, id="case=port-only"),
        pytest.param(":8080", False, id="case=empty-host"),
        pytest.param("localhost", False, id="case=no-port"),
        pytest.param("example.com:80", False, id="case=host-name"),
        pytest.param("127.0.0.1:0", False, id="case=port-zero"),
        pytest.param("127.0.0.1:65536", False, id="case=port-too-big"),
        pytest.param("127.0.0.1:http", False, id="case=service-name"),
        pytest.param("127.0.0.1:-1", False, id="case=negative-port"),
    ],
)
def test_listen(listen: str, valid: bool) -> None:
    text = BASE.replace("listen: 127.0.0.1:8080", f'listen: "{listen}"')
    if valid:
        assert load_config_text(text, FILE, {}).config.listen == listen
        return
    problems = _problems(text)
    assert [(p.location, p.line, p.message) for p in problems] == [
        ("listen", 2, "listen must be IP:PORT, e.g. 127.0.0.1:8080")
    ]


@pytest.mark.parametrize(
    ("gateway", "console", "problem"),
    [
        pytest.param("127.0.0.1:8080", "127.0.0.1:8081", None, id="case=own-port"),
        pytest.param("127.0.0.1:8080", "10.0.0.5:8080", None, id="case=same-port-other-ip"),
        pytest.param(
            "127.0.0.1:8080",
            "127.0.0.1:8080",
            "the console cannot share the data-plane address 127.0.0.1:8080",
            id="case=same-address",
        ),
        pytest.param(
            "0.0.0.0:8080",
            "127.0.0.1:8080",
            "the console cannot share the data-plane address 0.0.0.0:8080",
            id="case=data-plane-on-every-address",
        ),
        pytest.param(
            "127.0.0.1:8080",
            "[::]:8080",
            "the console cannot share the data-plane address 127.0.0.1:8080",
            id="case=console-on-every-address",
        ),
        pytest.param(
            "127.0.0.1:8080",
            "console.example:8081",
            "console.listen must be IP:PORT, e.g. 127.0.0.1:8081",
            id="case=host-name",
        ),
    ],
)
def test_console_listen(gateway: str, console: str, problem: str | None) -> None:
    text = BASE.replace("listen: 127.0.0.1:8080", f'listen: "{gateway}"')
    text += f'console:\n  enabled: true\n  listen: "{console}"  #<\n'
    if problem is None:
        assert load_config_text(text, FILE, {}).config.console.listen == console
        return
    problems = _problems(text)
    assert [(p.location, p.line, p.message) for p in problems] == [
        ("console.listen", _marked_line(text), problem)
    ]


def test_a_disabled_console_may_name_any_valid_address() -> None:
    text = BASE + 'console: {listen: "127.0.0.1:8080"}\n'
    config = load_config_text(text, FILE, {}).config
    assert config.console.enabled is False


@pytest.mark.parametrize(
    ("target", "valid"),
    [
        pytest.param("http://10.0.0.5:8080", True, id="case=http"),
        pytest.param("https://app.internal/base", True, id="case=https-with-path"),
        pytest.param("10.0.0.5:8080", False, id="case=no-scheme"),
        pytest.param("http://", False, id="case=no-host"),
        pytest.param("ftp://10.0.0.5", False, id="case=ftp"),
        pytest.param("http://10.0.0.5/?debug=1", False, id="case=query"),
        pytest.param("http://10.0.0.5/#frag", False, id="case=fragment"),
    ],
)
def test_upstream_target(target: str, valid: bool) -> None:
    text = BASE.replace("targets: [http://127.0.0.1:9000]", f'targets: ["{target}"]')
    if valid:
        assert load_config_text(text, FILE, {}).config.upstreams[0].targets == (target,)
        return
    problems = _problems(text)
    assert [(p.location, p.line) for p in problems] == [("upstreams[0].targets[0]", 9)]
    assert problems[0].hint == "no query or fragment"


def test_every_problem_is_reported_at_once() -> None:
    text = BASE + dedent(
        """
        routes:
          - id: r
            match: {path: /a/*}
            upstream: nope
            quota: premium
            require: {auth_strength: mfa2}
          - id: r
            match: {path: /b/*}
        """
    )
    locations = [(p.location, p.line) for p in _problems(text)]
    assert locations == [
        ("routes[1].id", 21),
        ("routes[0].upstream", 18),
        ("routes[0].require.auth_strength", 20),
        ("routes[0].quota", 19),
    ]


def test_hints_list_the_known_names() -> None:
    text = BASE + dedent(
        """
        routes:
          - id: r
            match: {path: /a/*}
            upstream: nope
            quota: premium
            allow: {networks: [corp]}
            require: {auth_strength: strong}
        """
    )
    hints = {p.location: p.hint for p in _problems(text)}
    assert hints == {
        "routes[0].upstream": "known upstreams: app",
        "routes[0].quota": "known tiers: standard",
        "routes[0].allow.networks[0]": "named networks: office",
        "routes[0].require.auth_strength": "known levels: any, mfa, phishing_resistant",
    }


def test_valid_routes_pass_every_rule() -> None:
    text = BASE + dedent(
        """
        auth_strength:
          strong: {amr: [hwk]}
        routes:
          - id: health
            match: {path: /healthz}
            anonymous: true
          - id: api
            match: {path: /api/*/items, methods: [GET, PROPFIND], hosts: ["*.example.com"]}
            upstream: app
            issuers: [idp]
            quota: standard
            allow: {groups: [Analysts], networks: [office, 192.0.2.0/24]}
            deny: {groups: [Contractors], networks: ["10.1.2.0/24"]}
            require:
              scopes: [read]
              auth_strength: strong
              max_auth_age: 5m
              time_window: {days: [mon, fri], start: "08:00", end: "18:00", timezone: Europe/Berlin}
              condition: "claims.department == 'finance'"
        """
    )
    loaded = load_config_text(text, FILE, {})
    assert [route.id for route in loaded.config.routes] == ["health", "api"]


def test_anonymous_route_with_networks_is_rejected() -> None:
    text = BASE + dedent(
        """
        routes:
          - id: r
            match: {path: /internal/*}
            anonymous: true
            allow: {networks: [office]}
        """
    )
    assert [p.location for p in _problems(text)] == ["routes[0].anonymous"]


def test_quota_period_zero_is_rejected() -> None:
    text = BASE.replace("per: 1s", "per: 0")
    assert [p.location for p in _problems(text)] == ["quotas.standard.per"]


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=f"case={name}") for name in sorted(_HIT_BY_SPURIOUS_TOO_SHORT)]
)
def test_schema_problem_inside_the_only_issuer_is_located(name: str) -> None:
    case, location, message = next((c, loc, m) for n, c, loc, m in CASES if n == name)
    text = _text(case)
    found = [(p.location, p.line, p.message) for p in _problems(text)]
    assert found[0] == (location, _marked_line(text), message)


def test_missing_audiences_has_the_binding_hint() -> None:
    text = "version: 1\nissuers:\n  - id: idp\n    issuer: http://127.0.0.1:9400\n"
    first = _problems(text)[0]
    assert (first.location, first.line, first.message) == (
        "issuers[0].audiences",
        3,
        "'audiences' is required",
    )
    assert first.hint == "audience binding is mandatory: list the audience your API expects"


def test_forward_auth_without_allowed_peers_is_rejected() -> None:
    text = BASE + "trusted_proxies: [127.0.0.1/32]\nforward_auth: {enabled: true}\n"
    assert [p.location for p in _problems(text)] == ["forward_auth.allowed_peers"]


def test_forward_auth_peers_must_be_trusted_proxies() -> None:
    text = BASE + "forward_auth: {enabled: true, allowed_peers: [127.0.0.1/32, 10.0.0.0/8]}\n"
    text += "trusted_proxies: [127.0.0.0/8]\n"
    assert [p.location for p in _problems(text)] == ["forward_auth.allowed_peers[1]"]


@pytest.mark.parametrize("bad", ["not-a-cidr", "10.0.0.1/33", "10.0.0.1/8"])
def test_forward_auth_peers_are_checked_cidrs(bad: str) -> None:
    text = BASE + f"trusted_proxies: [0.0.0.0/0]\nforward_auth: {{allowed_peers: [{bad}]}}\n"
    assert [p.location for p in _problems(text)] == ["forward_auth.allowed_peers[0]"]
