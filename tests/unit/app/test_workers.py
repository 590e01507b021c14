"""--workers: the count, and what cannot hold across workers."""

from __future__ import annotations

import os

import pytest

from glassgate.app.workers import MAX_WORKERS, check_workers, worker_count
from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError

BASE = """\
version: 1
issuers:
  - {id: idp, issuer: http://127.0.0.1:9400, audiences: [api://gateway]}
upstreams: [{id: app, targets: ["http://127.0.0.1:9"]}]
"""
METERED = (
    BASE
    + """\
quotas:
  standard: {rate: 10, per: 1s}
routes:
  - {id: r, match: {path: /r/*}, upstream: app, quota: standard}
"""
)


def test_auto_is_the_usable_cores() -> None:
    assert worker_count("auto") == min(MAX_WORKERS, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("value", ["1", "2", str(MAX_WORKERS)])
def test_a_number_in_range(value: str) -> None:
    assert worker_count(value) == int(value)


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_WORKERS + 1), "1.5", "", "two", "٣"])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="--workers"):
        worker_count(value)


def test_memory_quotas_hold_for_one_worker_only() -> None:
    config = load_config_text(METERED, "g.yaml", {}).config
    check_workers(config, 1)
    with pytest.raises(ConfigError) as info:
        check_workers(config, 2)
    assert [p.location for p in info.value.problems] == ["quotas"]


def test_no_quotas_is_fine_with_workers() -> None:
    check_workers(load_config_text(BASE, "g.yaml", {}).config, 8)


def test_a_shared_quota_store_holds_across_workers() -> None:
    shared = METERED.replace(
        "quotas:\n", 'quotas:\n  store: {redis: {url: "redis://127.0.0.1:6379/0"}}\n'
    )
    check_workers(load_config_text(shared, "g.yaml", {}).config, 4)
