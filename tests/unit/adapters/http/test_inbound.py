"""adapters.http.inbound from vectors: tests/vectors/http/inbound.yaml, one case per rule.

The YAML holds the raw request and the expected facts (or rejection); this
file only knows how to feed a case to the right reader.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest
import yaml

import glassgate.errors
from glassgate.adapters.http.inbound import (
    Inbound,
    RequestFacts,
    read_ext_authz,
    read_forwarded,
    read_request,
)
from glassgate.errors import RequestRejectedError

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "http" / "inbound.yaml"
_DATA: dict[str, Any] = yaml.safe_load(VECTORS.read_text(encoding="utf-8"))
_SETTINGS = _DATA["settings"]
_PLACEHOLDERS = {
    "$FILL600": "x" * 600,
    "$TOKEN64": "t" * 64,
    "$TOKEN65": "t" * 65,
}


def _expand(text: str) -> str:
    for name, value in _PLACEHOLDERS.items():
        text = text.replace(name, value)
    return text


def _inbound(trusted: bool) -> Inbound:
    proxies = tuple(ip_network(c) for c in _SETTINGS["trusted_proxies"]) if trusted else ()
    return Inbound(proxies, _SETTINGS["max_header_bytes"], _SETTINGS["max_token_bytes"])


def _read(case: dict[str, Any], inbound: Inbound) -> RequestFacts:
    headers = [(n.encode(), _expand(str(v)).encode("latin-1")) for n, v in case.get("headers", [])]
    peer = case.get("peer", "192.0.2.1")
    method = case.get("method", "GET")
    path = case.get("path", "/").encode()
    query = case.get("query", "").encode()
    door = case.get("door", "request")
    if door == "forwarded":
        return read_forwarded(inbound, headers, peer)
    if door == "ext_authz":
        prefix = _DATA["ext_authz_prefix"].encode()
        return read_ext_authz(inbound, prefix, method, path, query, headers, peer)
    return read_request(inbound, method, path, query, headers, peer)


def _observed(facts: RequestFacts) -> dict[str, Any]:
    request = facts.request
    return {
        "method": request.method,
        "path": request.path,
        "host": request.host,
        "client_ip": str(request.client_ip),
        "raw_path": facts.raw_path,
        "query": facts.query.decode("latin-1"),
        "token": facts.token,
        "token_length": None if facts.token is None else len(facts.token),
        "token_malformed": facts.token_malformed,
        "chunked": facts.chunked,
        "content_length": facts.content_length,
    }


@pytest.mark.parametrize("case", [pytest.param(c, id=f"case={c['id']}") for c in _DATA["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    inbound = _inbound(bool(case.get("trusted")))
    expect = case["expect"]
    if "error" in expect:
        error = getattr(glassgate.errors, expect["error"])
        with pytest.raises(error) as caught:
            _read(case, inbound)
        assert isinstance(caught.value, RequestRejectedError)
        assert type(caught.value) is error  # exactly that error, not a more general one
        assert caught.value.status == expect["status"]
        return
    observed = _observed(_read(case, inbound))
    assert {name: observed[name] for name in expect} == {
        name: str(value) if name == "client_ip" else value for name, value in expect.items()
    }


def test_every_reader_and_rejection_kind_has_a_vector() -> None:
    doors = {case.get("door", "request") for case in _DATA["cases"]}
    errors = {case["expect"].get("error") for case in _DATA["cases"]} - {None}
    assert doors == {"request", "forwarded", "ext_authz"}
    assert errors >= {
        "PathRejectedError",
        "HeaderTooLargeError",
        "UnsupportedCodingError",
        "ForwardedRequestError",
        "RequestRejectedError",
    }


def test_the_peer_cache_belongs_to_one_inbound() -> None:
    first, second = _inbound(False), _inbound(False)
    read_request(first, "GET", b"/", b"", [], "192.0.2.9")
    assert first.peers == {"192.0.2.9": ip_address("192.0.2.9")}
    assert second.peers == {}  # a reload builds a new Inbound: nothing carried over


def test_the_peer_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from glassgate.adapters.http import inbound as module

    monkeypatch.setattr(module, "_MAX_PEERS", 3)
    settings = _inbound(False)
    for index in range(7):
        facts = read_request(settings, "GET", b"/", b"", [], f"192.0.2.{index}")
        assert str(facts.request.client_ip) == f"192.0.2.{index}"
        assert len(settings.peers) <= 3
