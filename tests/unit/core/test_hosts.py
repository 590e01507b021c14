"""core.hosts: one canonical spelling per host, anything else refused (issue 11 C)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.core.hosts import canonical_host
from glassgate.errors import HostRejectedError, RequestRejectedError


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        pytest.param("admin.example.com", "admin.example.com", id="case=plain"),
        pytest.param("admin.example.com.", "admin.example.com", id="case=trailing-dot"),
        pytest.param("Admin.Example.COM.", "admin.example.com", id="case=upper-trailing-dot"),
        pytest.param("admin.example.com:8443", "admin.example.com", id="case=port"),
        pytest.param("admin.example.com.:8443", "admin.example.com", id="case=dot-and-port"),
        pytest.param("admin.example.com:", "admin.example.com", id="case=empty-port"),
        pytest.param("  api.test \t", "api.test", id="case=surrounding-space"),
        pytest.param("localhost", "localhost", id="case=single-label"),
        pytest.param("my_service:80", "my_service", id="case=underscore"),
        pytest.param("127.0.0.1:8080", "127.0.0.1", id="case=ipv4"),
        pytest.param("[::1]:8080", "[::1]", id="case=ipv6-port"),
        pytest.param("[2001:DB8::1]", "[2001:db8::1]", id="case=ipv6-upper"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="case=idna"),
        pytest.param("", "", id="case=empty"),
    ],
)
def test_canonical_host(value: str, canonical: str) -> None:
    assert canonical_host(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("admin.example.com..", id="case=two-trailing-dots"),
        pytest.param(".admin.example.com", id="case=leading-dot"),
        pytest.param("admin..example.com", id="case=empty-label"),
        pytest.param(".", id="case=only-dot"),
        pytest.param("admin%2eexample.com", id="case=percent-escape"),
        pytest.param("admin.example.com:x", id="case=non-numeric-port"),
        pytest.param("admin.example.com:443:443", id="case=two-ports"),
        pytest.param("admin.example.com:123456", id="case=long-port"),
        pytest.param("admin example.com", id="case=inner-space"),
        pytest.param("bücher.example", id="case=non-ascii"),
        pytest.param("admin.example.com/x", id="case=slash"),
        pytest.param("user@admin.example.com", id="case=userinfo"),
        pytest.param("[::1", id="case=unclosed-bracket"),
        pytest.param("[fe80::1%25eth0]", id="case=zone-id"),
        pytest.param("a:b:c", id="case=bare-ipv6"),
        pytest.param("a" * 64 + ".example", id="case=label-too-long"),
        pytest.param(".".join(["a"] * 200), id="case=name-too-long"),
    ],
)
def test_malformed_host_is_rejected_with_400(value: str) -> None:
    with pytest.raises(HostRejectedError) as info:
        canonical_host(value)
    assert isinstance(info.value, RequestRejectedError)
    assert info.value.status == 400
    assert info.value.code == "host_rejected"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_only_ever_raises_host_rejected(text: str) -> None:
    with contextlib.suppress(HostRejectedError):
        canonical_host(text)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}", fullmatch=True))
def test_every_spelling_of_a_name_has_one_canonical_form(name: str) -> None:
    spellings = [name, name + ".", name.upper(), name + ".:443", name.upper() + ".:1"]
    assert {canonical_host(spelling) for spelling in spellings} == {name}
