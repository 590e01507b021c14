"""directory.principal_groups: the directory's groups for a verified caller."""

from __future__ import annotations

from dataclasses import replace

import pytest

from glassgate.core.principal import CredentialKind, Principal
from glassgate.directory.changes import PutUser, apply, build
from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.principal_groups import DirectoryGroups, SubjectField
from tests.unit.directory._build import IT_ADMINS, rules

OKTA = "https://example.okta.com"
USER = User(
    "u1", "ana@example.com", attributes={"department": "IT", "title": "Admin"}, external_id="00u1"
)


def _directory():  # type: ignore[no-untyped-def]
    return build(
        [USER],
        [Group("g1", "Admins"), Group("g2", "Oncall", frozenset({"u1"}))],
        rules(("r", IT_ADMINS, "Admins")),
    )


def _principal(subject: str = "00u1", issuer: str = OKTA, **fields: object) -> Principal:
    return Principal(subject=subject, issuer=issuer, groups=frozenset({"Everyone"}), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "subject"),
    [
        (SubjectField.EXTERNAL_ID, "00u1"),
        (SubjectField.ID, "u1"),
        (SubjectField.USER_NAME, "ANA@example.com"),
    ],
)
def test_groups_by_the_configured_subject_field(field: SubjectField, subject: str) -> None:
    directory = _directory()
    enricher = DirectoryGroups(lambda: directory, {OKTA: field})
    enriched = enricher.enrich(_principal(subject), 0.0)
    assert enriched.groups == {"Everyone", "Admins", "Oncall"}


def test_nothing_for_unknown_issuers_subjects_inactive_users_or_other_credentials() -> None:
    directory = _directory()
    enricher = DirectoryGroups(lambda: directory, {OKTA: SubjectField.EXTERNAL_ID})
    for principal in (
        _principal(issuer="https://other.example"),
        _principal(subject="00uX"),
        _principal(kind=CredentialKind.BREAKGLASS),
        _principal(kind=CredentialKind.API_KEY),
    ):
        assert enricher.enrich(principal, 0.0) is principal
    suspended = apply(directory, [PutUser(replace(USER, status=UserStatus.SUSPENDED))])
    enricher = DirectoryGroups(lambda: suspended, {OKTA: SubjectField.EXTERNAL_ID})
    assert enricher.enrich(_principal(), 0.0).groups == {"Everyone"}


def test_a_new_snapshot_is_seen_at_once() -> None:
    snapshots = [_directory()]
    enricher = DirectoryGroups(lambda: snapshots[-1], {OKTA: SubjectField.EXTERNAL_ID})
    assert "Admins" in enricher.enrich(_principal(), 0.0).groups
    moved = replace(USER, attributes={"department": "Sales"})
    snapshots.append(apply(snapshots[-1], [PutUser(moved)]))
    assert enricher.enrich(_principal(), 0.0).groups == {"Everyone", "Oncall"}


def test_a_principal_that_already_has_the_groups_is_returned_as_is() -> None:
    directory = _directory()
    enricher = DirectoryGroups(lambda: directory, {OKTA: SubjectField.EXTERNAL_ID})
    full = Principal(subject="00u1", issuer=OKTA, groups=frozenset({"Admins", "Oncall"}))
    assert enricher.enrich(full, 0.0) is full
