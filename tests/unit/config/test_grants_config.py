"""The ``grants:`` section: defaults, did-you-mean, hostile values, cross-field checks."""

from __future__ import annotations

import pytest

from glassgate.app.grants import grant_policy
from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError
from tests.unit.config.test_load import MINIMAL

GRANTS = """\
grants:
  request_ttl: 30m
  refresh_interval: 1s
  admins: [SecAdmins]
  types:
    - id: admins-jit
      group: Admins
      max_duration: 1h
      requesters: [Engineers]
      approval:
        any_of:
          - [{group: Admins, count: 2}]
          - [{group: Admins}, {group: Security}]
        strength: mfa
        max_auth_age: 10m
      alerts: {on_request: false}
"""


def _problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as info:
        load_config_text(MINIMAL + text, "gate.yaml", {})
    return [(p.location, p.message, p.hint) for p in info.value.problems]


def test_no_section_means_no_grants() -> None:
    config = load_config_text(MINIMAL, "gate.yaml", {}).config
    assert not config.grants.enabled
    assert grant_policy(config).types == {}


def test_a_grant_type_compiles_to_an_approval_rule() -> None:
    config = load_config_text(MINIMAL + GRANTS, "gate.yaml", {}).config
    policy = grant_policy(config)
    kind = policy.types["admins-jit"]
    assert kind.group == "Admins"
    assert kind.max_duration == 3600.0
    assert kind.requesters == {"Engineers"}
    assert kind.rule.strength == "mfa"
    assert kind.rule.max_auth_age == 600.0
    assert [[(r.group, r.count) for r in alt] for alt in kind.rule.alternatives] == [
        [("Admins", 2)],
        [("Admins", 1), ("Security", 1)],
    ]
    assert not kind.alert_on_request
    assert kind.alert_on_approval
    assert policy.admins == {"SecAdmins"}
    assert policy.request_ttl == 1800.0
    assert "phr" in policy.acr_values["mfa"]


@pytest.mark.parametrize(
    ("text", "location", "hint"),
    [
        pytest.param(
            GRANTS.replace("requesters:", "requestors:"),
            "grants.types[0].requestors",
            "did you mean 'requesters'?",
            id="case=typo-in-type",
        ),
        pytest.param(
            GRANTS.replace("any_of:", "anyof:"),
            "grants.types[0].approval.anyof",
            "did you mean 'any_of'?",
            id="case=typo-in-approval",
        ),
    ],
)
def test_unknown_keys_get_a_did_you_mean(text: str, location: str, hint: str) -> None:
    found = _problems(text)
    assert any(loc == location and hint in h for loc, _, h in found), found


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        pytest.param("max_duration: 1h", "max_duration: 30d", "grants.types[0].max_duration",
                     id="case=duration-above-a-week"),
        pytest.param("max_duration: 1h", "max_duration: -5s", "grants.types[0].max_duration",
                     id="case=negative-duration"),
        pytest.param("count: 2", "count: 0", "grants.types[0].approval.any_of[0][0].count",
                     id="case=zero-approvers"),
        pytest.param("count: 2", "count: 1000000", "grants.types[0].approval.any_of[0][0].count",
                     id="case=absurd-approvers"),
        pytest.param("requesters: [Engineers]", "requesters: []", "grants.types[0].requesters",
                     id="case=nobody-may-request"),
        pytest.param("id: admins-jit", "id: '../../etc'", "grants.types[0].id",
                     id="case=hostile-id"),
        pytest.param("group: Admins\n", "group: ''\n", "grants.types[0].group",
                     id="case=empty-group"),
        pytest.param("refresh_interval: 1s", "refresh_interval: 1h", "grants.refresh_interval",
                     id="case=refresh-too-slow"),
        pytest.param("strength: mfa", "strength: [mfa]", "grants.types[0].approval.strength",
                     id="case=strength-not-a-string"),
    ],
)  # fmt: skip
def test_hostile_values_are_refused_with_their_location(old: str, new: str, location: str) -> None:
    assert old in GRANTS
    found = _problems(GRANTS.replace(old, new, 1))
    assert location in [loc for loc, _, _ in found], found


def test_cross_field_problems_are_found() -> None:
    text = GRANTS.replace("strength: mfa", "strength: superstrong")
    text = text.replace("admins: [SecAdmins]", "admins: ['  ']")
    text = text.replace("requesters: [Engineers]", "requesters: [' ']")
    duplicate = text[text.index("    - id: admins-jit") :]
    found = _problems(text + duplicate)
    messages = {loc: (msg, hint) for loc, msg, hint in found}
    assert (
        messages["grants.types[0].approval.strength"][0] == "unknown strength level 'superstrong'"
    )
    assert "mfa" in messages["grants.types[0].approval.strength"][1]
    assert "grants.types[1].id" in messages
    assert "grants.types[0].requesters[0]" in messages
    assert "grants.admins[0]" in messages


ROUTES = """\
routes:
  - id: payments
    match: {path: /payments/*}
    allow: {groups: [PaymentsTeam]}
  - id: public
    match: {path: /public/*}
"""

ACCESS = """\
    - id: payments-access
      routes: [payments]
      max_duration: 8h
      requesters: [Partners]
      approval: {any_of: [[{group: PaymentsOwners}]]}
"""


def test_a_route_access_type_opens_only_its_routes() -> None:
    from glassgate.config.grants import added_group

    loaded = load_config_text(MINIMAL + ROUTES + GRANTS + ACCESS, "gate.yaml", {})
    kind = loaded.config.grants.types[1]
    assert added_group(kind) == "grant:payments-access"
    assert grant_policy(loaded.config).types["payments-access"].group == "grant:payments-access"
    route = loaded.compiled.policy.by_id["payments"]
    assert "grant:payments-access" in route.forward_groups
    assert "grant:payments-access" not in loaded.compiled.policy.by_id["public"].forward_groups


@pytest.mark.parametrize(
    ("old", "new", "location", "message"),
    [
        pytest.param("routes: [payments]", "routes: [nope]", "grants.types[1].routes[0]",
                     "no route 'nope'", id="case=unknown-route"),
        pytest.param("routes: [payments]", "routes: [public]", "grants.types[1].routes[0]",
                     "allows every caller already", id="case=open-route"),
        pytest.param("      routes: [payments]\n", "", "grants.types[1]",
                     "needs a 'group', 'routes', or both", id="case=neither"),
    ],
)  # fmt: skip
def test_route_access_mistakes_are_refused(old: str, new: str, location: str, message: str) -> None:
    found = _problems(ROUTES + GRANTS + ACCESS.replace(old, new))
    assert any(loc == location and message in msg for loc, msg, _ in found), found


def test_the_grants_example_passes_check_config() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "examples" / "grants.yaml"
    env = {"GLASSGATE_ISSUER": "https://example.okta.com/oauth2/default",
           "CONSOLE_OIDC_SECRET": "s3cret"}  # fmt: skip
    text = example.read_text()
    config = load_config_text(text, str(example), env).config
    assert config.console.oidc is not None
    assert grant_policy(config).types["payments-access"].group == "grant:payments-access"
