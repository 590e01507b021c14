"""The ``quotas`` section: tiers, ``when_store_down`` and the store (memory or Redis).

``quotas.store.redis.url`` is outside input to a network client and may hold a
password: hostile values are refused at load, located, and never echoed.
"""

from __future__ import annotations

import importlib.util

import pytest

from glassgate.adapters.storage.quotas import open_quota_store
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.adapters.storage.quotas.redis import RedisQuotaStore
from glassgate.config.load import load_config_text
from glassgate.errors import ConfigError

BASE = """
issuers:
  - id: idp
    issuer: https://idp.example
    audiences: [api]
    jwks_uri: https://idp.example/jwks
"""


def _load(quotas: str):  # type: ignore[no-untyped-def]
    return load_config_text(BASE + f"quotas: {quotas}\n", "t.yaml", {})


def test_memory_and_closed_by_default() -> None:
    loaded = _load("{std: {rate: 5}}")
    assert loaded.config.quotas.store.redis is None
    assert loaded.config.quotas.tiers["std"].when_store_down == "closed"
    assert loaded.compiled.quota_tiers["std"].fail_open is False
    assert isinstance(open_quota_store(loaded.config.quotas.store), MemoryQuotaStore)


def test_a_redis_store_and_a_tier_that_fails_open() -> None:
    loaded = _load(
        "{store: {redis: {url: 'rediss://:pw@cache.internal:6380/2', timeout: 100ms}},"
        " std: {rate: 5, when_store_down: open}}"
    )
    redis = loaded.config.quotas.store.redis
    assert redis is not None
    assert redis.timeout == 0.1
    assert "pw" not in repr(loaded.config)  # the URL is a secret
    assert set(loaded.config.quotas.tiers) == {"std"}  # 'store' is not a tier
    assert loaded.compiled.quota_tiers["std"].fail_open is True
    assert isinstance(open_quota_store(loaded.config.quotas.store), RedisQuotaStore)


def test_no_quotas_section_means_no_tiers() -> None:
    config = load_config_text(BASE, "t.yaml", {}).config
    assert config.quotas.tiers == {}


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="case=empty"),
        pytest.param("http://cache:6379", id="case=http-scheme"),
        pytest.param("redis:cache", id="case=no-authority"),
        pytest.param("redis://", id="case=no-host"),
        pytest.param("redis://:secret-pw@/0", id="case=password-no-host"),
        pytest.param("redis://cache:99999/0", id="case=port-out-of-range"),
        pytest.param("redis://cache:0/0", id="case=port-zero"),
        pytest.param("redis://cache:port/0", id="case=port-not-a-number"),
        pytest.param("redis://cache:6379/zero", id="case=db-not-a-number"),
        pytest.param("redis://cache:6379/0/1", id="case=db-path"),
        pytest.param("redis://cache:6379/\u0661", id="case=db-unicode-digit"),
        pytest.param("redis://cache:6379/0?ssl_cert_reqs=none", id="case=query-downgrades-tls"),
        pytest.param("rediss://cache:6379/0#frag", id="case=fragment"),
        pytest.param("redis://cache:6379/0?", id="case=empty-query"),
        pytest.param("redis://ca che:6379", id="case=space"),
        pytest.param("redis://cache:6379\r\nFLUSHALL", id="case=crlf-injection"),
        pytest.param("redis://cache\x00:6379", id="case=nul"),
        pytest.param("redis://[::1:6379", id="case=broken-ipv6"),
        pytest.param("unix://relative/path", id="case=unix-relative"),
        pytest.param("unix:///", id="case=unix-root"),
        pytest.param("redis://" + "a" * 3000, id="case=too-long"),
    ],
)
def test_hostile_redis_urls_are_refused_without_echo(url: str) -> None:
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\r", "\\r"), ("\n", "\\n"), ("\x00", "\\0")):
        quoted = quoted.replace(char, escape)
    with pytest.raises(ConfigError) as caught:
        _load(f'{{store: {{redis: {{url: "{quoted}"}}}}}}')
    problems = caught.value.problems
    assert any(p.location.startswith("quotas.store.redis.url") for p in problems), problems
    rendered = " ".join(p.render() for p in problems)
    if len(url) > 12:  # shorter ones are prefixes of the examples the messages give
        assert url not in rendered
    assert "secret-pw" not in rendered


@pytest.mark.parametrize(
    "url",
    [
        "redis://cache",
        "redis://127.0.0.1:6379/0",
        "rediss://[::1]:6380/15",
        "unix:///run/redis.sock",
    ],
)
def test_usable_redis_urls(url: str) -> None:
    assert _load(f'{{store: {{redis: {{url: "{url}"}}}}}}').config.quotas.store.redis is not None


@pytest.mark.parametrize(
    ("quotas", "where"),
    [
        ("{std: {rate: 5, when_store_down: maybe}}", "quotas.std.when_store_down"),
        ("{store: {memcached: {}}}", "quotas.store.memcached"),
        ("{store: {redis: {url: 'redis://c', prefix: 'a b'}}}", "quotas.store.redis.prefix"),
        ("{store: {redis: {url: 'redis://c', timeout: 1h}}}", "quotas.store.redis.timeout"),
        ("{store: {redis: {}}}", "quotas.store.redis.url"),
    ],
)
def test_refused_settings_are_located(quotas: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(quotas)
    assert any(p.location.startswith(where) for p in caught.value.problems), caught.value.problems


def test_check_config_says_when_redis_py_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    with pytest.raises(ConfigError) as caught:
        _load("{store: {redis: {url: 'redis://cache'}}}")
    (problem,) = caught.value.problems
    assert problem.location == "quotas.store.redis"
    assert "glassgate[redis]" in problem.hint
