"""GrantGroups: the gate's index of active grants and the enricher reading it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from glassgate.core.principal import CredentialKind, Principal
from glassgate.workflows import grants
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grants import Grant
from tests.unit.workflows.test_grants import ISS, OTHER_ISS, _active, filed


def alice(issuer: str = ISS, **kwargs: object) -> Principal:
    return Principal("alice", issuer, frozenset({"Engineers"}), **kwargs)  # type: ignore[arg-type]


def test_a_principal_without_grants_is_returned_as_is() -> None:
    index = GrantGroups()
    principal = alice()
    assert index.enrich(principal, 1100.0) is principal
    assert len(index) == 0


def test_an_active_grant_adds_its_group_and_id_until_it_ends() -> None:
    index = GrantGroups()
    index.put(_active(), 1100.0)
    enriched = index.enrich(alice(), 1100.0)
    assert enriched.groups == {"Engineers", "Admins"}
    assert enriched.grants == ("gr_1",)
    assert index.enrich(alice(), 1602.0).groups == {"Engineers"}  # ended at ends_at


def test_the_same_subject_from_another_issuer_gets_nothing() -> None:
    index = GrantGroups()
    index.put(_active(), 1100.0)
    other = alice(OTHER_ISS)
    assert index.enrich(other, 1100.0) is other


@pytest.mark.parametrize("kind", [CredentialKind.API_KEY, CredentialKind.BREAKGLASS])
def test_machines_and_breakglass_are_never_enriched(kind: CredentialKind) -> None:
    index = GrantGroups()
    index.put(_active(), 1100.0)
    principal = alice(kind=kind)
    assert index.enrich(principal, 1100.0) is principal


def test_a_revocation_put_here_drops_the_group_at_once() -> None:
    index = GrantGroups()
    grant = _active()
    index.put(grant, 1100.0)
    revoked, _ = grants.revoke(grant, "x", True, 1101.0)
    index.put(revoked, 1101.0)
    assert index.enrich(alice(), 1101.0).groups == {"Engineers"}
    assert len(index) == 0
    assert index.changes == 2


def test_a_pending_grant_is_not_indexed() -> None:
    index = GrantGroups()
    index.put(filed(), 1000.0)
    assert len(index) == 0


def test_replace_all_keeps_only_active_grants_and_several_per_person() -> None:
    index = GrantGroups()
    first = _active()
    second: Grant = replace(first, id="gr_2", group="Ops")
    ended: Grant = replace(first, id="gr_3", group="Old", ends_at=1050.0)
    index.replace_all([first, second, ended, filed()], 1100.0)
    enriched = index.enrich(alice(), 1100.0)
    assert enriched.groups == {"Engineers", "Admins", "Ops"}
    assert enriched.grants == ("gr_1", "gr_2")
    index.replace_all([], 1100.0)
    assert len(index) == 0
