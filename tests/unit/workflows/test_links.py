"""One-time links: random, hashed at rest, one hour, once; every failure looks the same."""

from __future__ import annotations

import pytest

from glassgate.errors import LinkInvalidError
from glassgate.workflows.links import LinkPurpose, check_usable, issue_link, link_url, redeem

ENROL = LinkPurpose.ENROL


def test_issued_link_is_stored_hashed_and_works_once() -> None:
    issued = issue_link(ENROL, "custodian:alice", 100.0)
    token = issued.token.reveal()
    assert len(token) >= 43
    assert token not in repr(issued)
    assert issued.link.digest != token
    assert issued.link.expires_at == 3700.0
    used = redeem(issued.link, token, ENROL, 200.0)
    assert used.used_at == 200.0
    with pytest.raises(LinkInvalidError) as refused:
        redeem(used, token, ENROL, 201.0)
    assert refused.value.detail == "link-used"


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("expired", "link-expired"),
        ("unknown", "link-unknown"),
        ("other-token", "link-unknown"),
        ("purpose", "link-wrong-purpose"),
    ],
)
def test_refusals(case: str, detail: str) -> None:
    issued = issue_link(ENROL, "custodian:alice", 100.0)
    token = issued.token.reveal()
    link = None if case == "unknown" else issued.link
    given = "x" * 300 if case == "other-token" else token
    purpose = LinkPurpose.RESET if case == "purpose" else ENROL
    now = 3700.0 if case == "expired" else 101.0
    with pytest.raises(LinkInvalidError) as refused:
        check_usable(link, given, purpose, now)
    assert refused.value.detail == detail
    assert str(refused.value) == "this link is not valid (expired, already used, or unknown)"


def test_links_never_outlive_an_hour() -> None:
    with pytest.raises(ValueError, match="one hour"):
        issue_link(ENROL, "x:y", 0.0, ttl=3601)
    assert issue_link(ENROL, "x:y", 0.0, ttl=60).link.expires_at == 60.0


def test_retiring_a_used_link_changes_nothing() -> None:
    from glassgate.workflows.links import retire_link

    issued = issue_link(ENROL, "custodian:alice", 100.0)
    used = redeem(issued.link, issued.token.reveal(), ENROL, 200.0)
    assert retire_link(used, 300.0) is used
    assert retire_link(issued.link, 300.0).used_at == 300.0


@pytest.mark.parametrize(
    ("origin", "purpose", "url"),
    [
        ("https://gw.example.com:8081", "enrol", "https://gw.example.com:8081/enrol/T0K"),
        ("http://localhost:8081/", LinkPurpose.RESET, "http://localhost:8081/reset/T0K"),
    ],
)
def test_a_link_points_at_the_console(origin: str, purpose: str, url: str) -> None:
    assert link_url(origin, purpose, "T0K") == url


def test_a_link_has_no_other_purpose() -> None:
    with pytest.raises(ValueError, match="admin"):
        link_url("https://gw", "admin", "T0K")
