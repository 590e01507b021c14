"""The breakglass section: located problems, sealed credentials read once, the compiled policy."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from glassgate.config.breakglass import BreakglassConfig
from glassgate.config.breakglass_compile import check_breakglass, compile_breakglass, read_sealed
from glassgate.config.schema import Config

BASE: dict[str, Any] = {
    "issuers": [{"id": "idp", "issuer": "https://idp.example", "audiences": ["api"]}],
    "upstreams": [{"id": "okta", "targets": ["http://127.0.0.1:9"]}],
    "routes": [
        {
            "id": "okta-admin",
            "match": {"path": "/api/v1/*"},
            "upstream": "okta",
            "allow": {"groups": ["BreakGlass"]},
        },
        {"id": "drill", "match": {"path": "/drill/*"}, "upstream": "okta"},
    ],
    "networks": {"office": ["10.1.0.0/16"]},
}
ENV = {"OKTA_TOKEN": "00abcdefSECRET"}


def section(**changes: Any) -> BreakglassConfig:
    fields: dict[str, Any] = {
        "accounts": [{"name": "ops", "networks": ["10.0.0.0/24", "office"]}],
        "custodians": ["alice", "bob"],
        "quorum": 2,
        "recovery_routes": [
            {
                "route": "okta-admin",
                "credential": {"header": "Authorization", "prefix": "SSWS ", "env": "OKTA_TOKEN"},
                "guard": {"condition": 'body.domain == "example.com"'},
            }
        ],
        "drill_route": "drill",
    }
    fields.update(changes)
    return BreakglassConfig.model_validate(fields)


def problems(bg: BreakglassConfig, env: dict[str, str] = ENV) -> list[tuple[str, str]]:
    config = Config.model_validate(BASE)
    return [
        (".".join(map(str, path)), message)
        for path, message, _ in check_breakglass(bg, config, env)
    ]


def test_a_good_section_compiles() -> None:
    assert problems(section()) == []
    compiled = compile_breakglass(section(), Config.model_validate(BASE), ENV, alerts_required=True)
    policy = compiled.policy
    assert policy.accounts["ops"].allows(ip_address("10.1.2.3"))
    assert not policy.accounts["ops"].allows(ip_address("10.2.0.1"))
    assert policy.recovery_routes == ("okta-admin",)
    sealed = compiled.sealed["okta-admin"]
    assert sealed.header == b"authorization"
    assert sealed.value.reveal() == "SSWS 00abcdefSECRET"
    assert "SECRET" not in repr(compiled)
    assert set(compiled.guards) == {"okta-admin"}
    assert compiled.groups == frozenset({"BreakGlass"})


@pytest.mark.parametrize(
    ("changes", "where", "text"),
    [
        ({"custodians": ["alice"]}, "breakglass.quorum", "needs at least 2"),
        ({"custodians": ["alice", "ops"]}, "breakglass.custodians.1", "both"),
        ({"custodians": ["alice", "alice", "bob"]}, "breakglass.custodians.1", "twice"),
        ({"drill_route": "nope"}, "breakglass.drill_route", "no route"),
        ({"drill_route": "okta-admin"}, "breakglass.drill_route", "also a recovery"),
        (
            {"recovery_routes": [{"route": "nope"}]},
            "breakglass.recovery_routes.0.route",
            "no route",
        ),
        ({"recovery_routes": []}, "breakglass.recovery_routes", "no recovery route"),
        (
            {"accounts": [{"name": "ops", "networks": ["lab"]}]},
            "breakglass.accounts.0.networks.0",
            "neither a CIDR nor a named network",
        ),
        (
            {"recovery_routes": [{"route": "okta-admin", "guard": {"condition": "body.x in ["}}]},
            "breakglass.recovery_routes.0.guard.condition",
            "invalid CEL",
        ),
        (
            {"principal": {"groups": ["Other"]}},
            "breakglass.recovery_routes.0.route",
            "would refuse break-glass sessions",
        ),
        (
            {"webauthn": {"origins": ["localhost:8081"]}},
            "breakglass.webauthn.origins.0",
            "origin",
        ),
    ],
)
def test_problems_are_located(changes: dict[str, Any], where: str, text: str) -> None:
    found = problems(section(**changes))
    assert any(path == where and text in message for path, message in found), found


def test_missing_sealed_credential_is_located_and_secret_free(tmp_path: Path) -> None:
    found = problems(section(), env={})
    assert found == [
        (
            "breakglass.recovery_routes.0.credential",
            "environment variable OKTA_TOKEN is not set or empty",
        )
    ]


def test_sealed_credential_from_a_file(tmp_path: Path) -> None:
    token = tmp_path / "okta.token"
    token.write_text("ssws-from-file\n")
    bg = section(
        recovery_routes=[
            {"route": "okta-admin", "credential": {"file": str(token), "prefix": "SSWS "}}
        ]
    )
    assert problems(bg) == []
    assert read_sealed(bg.recovery_routes[0].credential, {}).reveal() == "SSWS ssws-from-file"  # type: ignore[arg-type]
    token.write_text("")
    assert "is empty" in problems(bg)[0][1]
    token.unlink()
    assert "cannot read" in problems(bg)[0][1]


@pytest.mark.parametrize(
    "changes",
    [
        {"recovery_routes": [{"route": "x", "credential": {"file": "a", "env": "B"}}]},
        {"recovery_routes": [{"route": "x", "credential": {}}]},
        {"recovery_routes": [{"route": "x", "credential": {"env": "A", "header": "X_Bad"}}]},
        {"session": {"default": "90m"}},
        {"session": {"max": "61m"}},
        {"accounts": [{"name": "Ops!", "networks": ["10.0.0.0/8"]}]},
        {"custodians": ["Bad Name"]},
        {"quorum": 0},
        {"unknown": 1},
    ],
)
def test_schema_refusals(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        section(**changes)


YAML = """
issuers:
  - {id: idp, issuer: "https://idp.example", audiences: [api]}
upstreams:
  - {id: okta, targets: ["http://127.0.0.1:9"]}
routes:
  - {id: okta-admin, match: {path: /api/v1/*}, upstream: okta}
breakglass:
  accounts:
    - {name: ops, networks: [10.0.0.0/24]}
  custodians: [alice, bob]
  recovery_routes:
    - route: okta-admin
      credential: {env: OKTA_TOKEN, prefix: "SSWS "}
"""


def test_load_compiles_the_section_and_locates_its_problems() -> None:
    from glassgate.config.load import load_config_text
    from glassgate.errors import ConfigError

    loaded = load_config_text(YAML, "gw.yaml", ENV)
    compiled = loaded.compiled.breakglass
    assert compiled is not None
    assert compiled.sealed["okta-admin"].value.reveal() == "SSWS 00abcdefSECRET"
    assert compiled.policy.alerts_required
    with pytest.raises(ConfigError) as failed:
        load_config_text(YAML.replace("okta-admin\n      cred", "nope\n      cred"), "gw.yaml", ENV)
    (problem,) = failed.value.problems
    assert problem.location == "breakglass.recovery_routes[0].route"
    assert problem.line == 13
    with pytest.raises(ConfigError) as unset:
        load_config_text(YAML, "gw.yaml", {})
    assert "OKTA_TOKEN" in unset.value.problems[0].render()
    assert "SECRET" not in unset.value.problems[0].render()


def test_no_section_means_off() -> None:
    from glassgate.config.load import load_config_text

    text = YAML.split("breakglass:", maxsplit=1)[0]
    assert load_config_text(text, "gw.yaml", {}).compiled.breakglass is None


def test_reload_changes_are_named_without_values() -> None:
    from glassgate.config.breakglass_diff import breakglass_changes
    from glassgate.config.load import load_config_text

    old = load_config_text(YAML, "gw.yaml", ENV)
    same = load_config_text(YAML, "gw.yaml", ENV)
    assert (
        breakglass_changes(
            old.config, old.compiled.breakglass, same.config, same.compiled.breakglass
        )
        == []
    )
    rotated = load_config_text(YAML, "gw.yaml", {"OKTA_TOKEN": "new-secret"})
    widened = load_config_text(YAML.replace("[alice, bob]", "[alice, bob, eve]"), "gw.yaml", ENV)
    changes = breakglass_changes(
        old.config, old.compiled.breakglass, rotated.config, rotated.compiled.breakglass
    )
    assert changes == ["breakglass.recovery_routes[okta-admin].credential.value"]
    changes = breakglass_changes(
        old.config, old.compiled.breakglass, widened.config, widened.compiled.breakglass
    )
    assert changes == ["breakglass.custodians"]
    gone = load_config_text(YAML.split("breakglass:", maxsplit=1)[0], "gw.yaml", {})
    removed = breakglass_changes(old.config, old.compiled.breakglass, gone.config, None)
    assert "breakglass.quorum" in removed
    assert all("SECRET" not in key for key in removed)
