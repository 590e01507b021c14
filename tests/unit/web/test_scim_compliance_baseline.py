"""tests.support.scim_compliance: the baseline comparison that guards SCIM compliance in CI."""

from __future__ import annotations

from collections import Counter

from tests.support.scim_compliance import compare, key, parse_cli, read_baseline, summary

OUTPUT = """Performing a SCIM compliance check on http://127.0.0.1:1/scim/v2/ ...
SUCCESS service_provider_config_endpoint
SUCCESS object_creation
  Successfully created User[EnterpriseUser] object with id 651ebb8725134874a68ccc9a47596d1a
ERROR check_add_attribute
  Attribute 'members' was not added or has unexpected value
SUCCESS search_with_attributes
  POST /.search: attribute filtering honoured for Group
SUCCESS search_with_attributes
  POST /.search: attribute filtering honoured for Group
"""


def test_cli_output_is_parsed_into_stable_keys() -> None:
    results = parse_cli(OUTPUT.splitlines())
    assert results == [
        ("SUCCESS", "service_provider_config_endpoint"),
        (
            "SUCCESS",
            "object_creation | Successfully created User[EnterpriseUser] object with id <id>",
        ),
        (
            "ERROR",
            "check_add_attribute | Attribute 'members' was not added or has unexpected value",
        ),
        (
            "SUCCESS",
            "search_with_attributes | POST /.search: attribute filtering honoured for Group",
        ),
        (
            "SUCCESS",
            "search_with_attributes | POST /.search: attribute filtering honoured for Group",
        ),
    ]
    assert summary(results) == "scim2-tester: 5 checks (4 SUCCESS, 1 ERROR)"


def test_a_check_that_passed_before_and_fails_now_is_a_regression() -> None:
    results = parse_cli(OUTPUT.splitlines())
    baseline = Counter(
        {
            "service_provider_config_endpoint": 1,
            "check_add_attribute | Attribute 'members' was not added or has unexpected value": 1,
            "search_with_attributes | POST /.search: attribute filtering honoured for Group": 3,
        }
    )
    lost, gained = compare(results, baseline)
    assert lost == Counter(
        {
            "check_add_attribute | Attribute 'members' was not added or has unexpected value": 1,
            "search_with_attributes | POST /.search: attribute filtering honoured for Group": 1,
        }
    )
    assert list(gained) == [
        key(
            "object_creation",
            "Successfully created User[EnterpriseUser] object with id 651ebb8725134874a68ccc9a47596d1a",
        )
    ]


def test_the_committed_baseline_is_all_of_scim2_testers_checks() -> None:
    baseline = read_baseline()
    assert sum(baseline.values()) == 135
