from __future__ import annotations

import pytest
from pydantic import ValidationError

from glassgate.adapters.storage.target import StorageTarget
from glassgate.config.storage import StorageConfig


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("sqlite:///var/lib/glassgate.db", "sqlite", "var/lib/glassgate.db"),
        ("sqlite:////var/lib/glassgate.db", "sqlite", "/var/lib/glassgate.db"),
        ("./glassgate.db", "sqlite", "./glassgate.db"),
        ("postgresql://gg:pw@db:5432/audit", "postgres", "postgresql://gg:pw@db:5432/audit"),
        ("postgres://db/audit", "postgres", "postgres://db/audit"),
        ("host=db port=5432 dbname=audit", "postgres", "host=db port=5432 dbname=audit"),
    ],
)
def test_parse(url: str, backend: str, location: str) -> None:
    target = StorageTarget.parse(url)
    assert (target.backend, target.location) == (backend, location)


@pytest.mark.parametrize("url", ["", "  ", "sqlite://relative.db"])
def test_parse_refuses_unclear_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|--db"):
        StorageTarget.parse(url)


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("postgresql://gg:hunter2@db.internal:5433/audit", "postgres://db.internal:5433/audit"),
        ("host=db.internal password=hunter2 dbname=audit", "postgres://db.internal/audit"),
        ("./glassgate.db", "sqlite:./glassgate.db"),
    ],
)
def test_describe_and_repr_never_show_the_password(url: str, described: str) -> None:
    target = StorageTarget.parse(url)
    assert target.describe() == described
    assert "hunter2" not in repr(target)


def test_from_config() -> None:
    assert StorageTarget.from_config(StorageConfig()) == StorageTarget("sqlite", "./glassgate.db")
    config = StorageConfig.model_validate(
        {"backend": "postgres", "postgres": {"dsn": "postgresql://db/gg", "connect_timeout": "2s"}}
    )
    assert StorageTarget.from_config(config) == StorageTarget("postgres", "postgresql://db/gg", 2.0)
    assert "postgresql://db/gg" not in repr(config)


def test_postgres_backend_needs_a_dsn() -> None:
    with pytest.raises(ValidationError, match=r"needs postgres\.dsn"):
        StorageConfig.model_validate({"backend": "postgres"})
