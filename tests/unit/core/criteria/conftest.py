"""Shared builders for criterion tests: a Context from a few keyword arguments."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from ipaddress import ip_address
from typing import Any

import pytest

from glassgate.core.criteria.base import Context
from glassgate.core.principal import Principal
from glassgate.core.request import AccessRequest

NOW = 1_700_000_000.0

MakeContext = Callable[..., Context]


@pytest.fixture
def make_context() -> MakeContext:
    def build(
        *,
        groups: Iterable[str] = (),
        scopes: Iterable[str] = (),
        amr: Iterable[str] = (),
        acr: str | None = None,
        auth_time: int | None = None,
        claims: Mapping[str, Any] | None = None,
        ip: str = "192.0.2.10",
        method: str = "GET",
        path: str = "/",
        host: str = "",
        now: float = NOW,
        risk: Mapping[str, Any] | None = None,
    ) -> Context:
        principal = Principal(
            subject="alice",
            issuer="http://127.0.0.1:9400",
            groups=frozenset(groups),
            scopes=frozenset(scopes),
            amr=frozenset(amr),
            acr=acr,
            auth_time=auth_time,
            claims=dict(claims or {}),
        )
        request = AccessRequest(method=method, path=path, client_ip=ip_address(ip), host=host)
        if risk is None:
            return Context(request, principal, now)
        return Context(request, principal, now, risk)

    return build
