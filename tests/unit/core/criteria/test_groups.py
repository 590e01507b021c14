"""criteria.groups: allowed and denied groups, exact strings, deny wins."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.base import Context, Effect
from glassgate.core.criteria.groups import GroupsConfig, compile_groups
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]

REPORTS = GroupsConfig(allow=frozenset({"Analysts"}), deny=frozenset({"Contractors"}))


def test_no_groups_configured_compiles_to_no_check() -> None:
    assert compile_groups(GroupsConfig()) is None


@pytest.mark.parametrize(
    ("groups", "effect", "reason"),
    [
        pytest.param({"Analysts"}, Effect.PASS, Reason.GROUPS_OK, id="case=allowed"),
        pytest.param({"Analysts", "Other"}, Effect.PASS, Reason.GROUPS_OK, id="case=allowed-plus"),
        pytest.param({"Contractors"}, Effect.DENY, Reason.GROUP_DENYLISTED, id="case=denied-group"),
        pytest.param(
            {"Analysts", "Contractors"},
            Effect.DENY,
            Reason.GROUP_DENYLISTED,
            id="case=denied-group-wins",
        ),
        pytest.param({"Other"}, Effect.DENY, Reason.GROUPS_DENIED, id="case=neither"),
        pytest.param(set(), Effect.DENY, Reason.GROUPS_DENIED, id="case=no-groups"),
    ],
)
def test_allow_and_deny(
    make_context: MakeContext, groups: set[str], effect: Effect, reason: Reason
) -> None:
    check = compile_groups(REPORTS)
    assert check is not None
    verdict = check(make_context(groups=groups))
    assert (verdict.effect, verdict.reason) == (effect, reason)
    assert verdict.challenge is None


def test_deny_only_route_lets_everyone_else_in(make_context: MakeContext) -> None:
    check = compile_groups(GroupsConfig(deny=frozenset({"Contractors"})))
    assert check is not None
    assert check(make_context(groups=())).effect is Effect.PASS
    assert check(make_context(groups={"Contractors"})).reason is Reason.GROUP_DENYLISTED


@pytest.mark.parametrize(
    "lookalike",
    [
        pytest.param("Ａdmins", id="case=fullwidth"),
        pytest.param("admins", id="case=lower"),
        pytest.param("ADMINS", id="case=upper"),
        pytest.param("Admins ", id="case=trailing-space"),
        pytest.param(" Admins", id="case=leading-space"),
        pytest.param("Admins\u200b", id="case=zero-width-space"),
        pytest.param("Admin", id="case=substring"),
        pytest.param("Admins,Analysts", id="case=comma-joined"),
        pytest.param("Аdmins", id="case=cyrillic-a"),
    ],
)
def test_group_names_are_exact_strings(make_context: MakeContext, lookalike: str) -> None:
    check = compile_groups(GroupsConfig(allow=frozenset({"Admins"})))
    assert check is not None
    assert check(make_context(groups={lookalike})).reason is Reason.GROUPS_DENIED
    assert check(make_context(groups={"Admins"})).reason is Reason.GROUPS_OK


def test_denied_lookalike_does_not_deny(make_context: MakeContext) -> None:
    check = compile_groups(REPORTS)
    assert check is not None
    verdict = check(make_context(groups={"Analysts", "contractors"}))
    assert verdict.reason is Reason.GROUPS_OK


def test_detail_names_the_groups(make_context: MakeContext) -> None:
    check = compile_groups(REPORTS)
    assert check is not None
    assert "Contractors" in check(make_context(groups={"Contractors"})).detail
    assert "Analysts" in check(make_context(groups={"Other"})).detail
