"""Config models for quotas: the tiers, and the store that counts them (SPEC C4).

Tiers are named keys of ``quotas``; ``store`` is the one reserved name. The
counters live in memory by default (one process) or in a shared Redis, so
several gateway instances (or workers) hold one limit, never N times it::

    quotas:
      store: {redis: {url: "${GLASSGATE_REDIS_URL}"}}
      standard: {rate: 100, per: 1m, burst: 20}
      partner: {rate: 10, per: 1s, burst: 10, when_store_down: open}

``when_store_down`` is each tier's answer while the store cannot be asked:
``closed`` (the default) refuses with 503 and ``Retry-After``, ``open`` lets
the request through unmetered and counts it.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from glassgate.config._model import Model
from glassgate.config._units import Duration

__all__ = ["QuotaStoreConfig", "QuotaTierConfig", "QuotasConfig", "RedisStoreConfig"]

_SCHEMES = ("redis", "rediss", "unix")
_MAX_URL = 2048


class QuotaTierConfig(Model):
    """A sustained rate with a burst allowance (GCRA)."""

    rate: float = Field(gt=0)
    per: Duration = Field(default=1.0, gt=0)
    burst: int = Field(default=1, ge=1)
    key: Literal["principal", "api_key", "client_ip"] = "principal"
    when_store_down: Literal["open", "closed"] = "closed"


class RedisStoreConfig(Model):
    """A Redis shared by every instance; the URL is a secret (it may hold a password).

    Only ``redis://host[:port][/db]``, ``rediss://`` (TLS) and
    ``unix:///path``: no query string, since redis-py reads options from it
    (``ssl_cert_reqs=none`` would switch certificate checks off).
    """

    url: SecretStr
    timeout: Duration = Field(default=0.25, gt=0, le=10.0)
    prefix: str = Field(default="glassgate:quota:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: SecretStr) -> SecretStr:
        check_redis_url(value.get_secret_value())
        return value

    def describe(self) -> str:
        """The URL without its user and password: what ``check-config`` may print."""
        parts = urlsplit(self.url.get_secret_value())
        if parts.scheme == "unix":
            return f"unix://{parts.path}"
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"


def check_redis_url(url: str) -> None:
    """``ValueError`` (never echoing the URL: it may hold a password) unless ``url`` is usable."""
    if not url or len(url) > _MAX_URL:
        raise ValueError(f"a Redis URL must be 1 to {_MAX_URL} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise ValueError("a Redis URL cannot contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL (check the host and the port)") from None
    if parts.scheme not in _SCHEMES:
        raise ValueError("a Redis URL starts with redis://, rediss:// (TLS) or unix://")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(
            "a Redis URL takes no query string or fragment here; set timeout and prefix "
            "under quotas.store.redis"
        )
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise ValueError("a unix:// Redis URL names an absolute socket path: unix:///path")
        return
    if not parts.hostname:
        raise ValueError("a Redis URL names a host: redis://host:6379/0")
    if port == 0:
        raise ValueError("a Redis URL's port must be 1-65535")
    database = parts.path.lstrip("/")
    if database and (not database.isdigit() or not database.isascii() or len(database) > 5):
        raise ValueError("the path of a Redis URL is a database number: redis://host:6379/0")


class QuotaStoreConfig(Model):
    """Where the quota counters live: in memory (the default) or in Redis."""

    redis: RedisStoreConfig | None = None


class QuotasConfig(BaseModel):
    """``quotas``: named tiers, and ``store``.

    Unknown keys are tiers (typed ``QuotaTierConfig``); ``tiers`` hands them out.
    """

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)
    __pydantic_extra__: dict[str, QuotaTierConfig] = Field(init=False)

    store: QuotaStoreConfig = QuotaStoreConfig()

    @property
    def tiers(self) -> dict[str, QuotaTierConfig]:
        """The tiers by name (every key but ``store``)."""
        return dict(self.__pydantic_extra__ or {})
