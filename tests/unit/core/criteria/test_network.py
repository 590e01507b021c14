"""criteria.network: client address in an allowed zone and in no denied one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.base import Check, Context, Effect
from glassgate.core.criteria.network import NetworkConfig, compile_network
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]


def _check(allow: tuple[str, ...] = (), deny: tuple[str, ...] = ()) -> Check:
    check = compile_network(NetworkConfig.from_cidrs(allow, deny))
    assert check is not None
    return check


def test_no_networks_compiles_to_no_check() -> None:
    assert compile_network(NetworkConfig()) is None


@pytest.mark.parametrize(
    ("ip", "effect"),
    [
        pytest.param("127.0.0.1", Effect.PASS, id="case=breakglass-host"),
        pytest.param("127.0.0.2", Effect.DENY, id="case=neighbour"),
        pytest.param("10.0.0.1", Effect.DENY, id="case=elsewhere"),
        pytest.param("::1", Effect.DENY, id="case=ipv6-loopback-is-not-127.0.0.1"),
        pytest.param("::ffff:127.0.0.1", Effect.PASS, id="case=ipv4-mapped"),
        pytest.param("::ffff:127.0.0.2", Effect.DENY, id="case=ipv4-mapped-neighbour"),
    ],
)
def test_allow_single_host(make_context: MakeContext, ip: str, effect: Effect) -> None:
    verdict = _check(allow=("127.0.0.1/32",))(make_context(ip=ip))
    assert verdict.effect is effect
    expected = Reason.NETWORK_OK if effect is Effect.PASS else Reason.NETWORK_DENIED
    assert verdict.reason is expected


def test_deny_wins_over_allow(make_context: MakeContext) -> None:
    check = _check(allow=("10.0.0.0/8",), deny=("10.1.0.0/16",))
    assert check(make_context(ip="10.2.3.4")).effect is Effect.PASS
    denied = check(make_context(ip="10.1.2.3"))
    assert (denied.effect, denied.reason) == (Effect.DENY, Reason.NETWORK_DENIED)
    assert "denied network" in denied.detail


def test_deny_only_allows_the_rest(make_context: MakeContext) -> None:
    check = _check(deny=("192.0.2.0/24",))
    assert check(make_context(ip="192.0.2.7")).effect is Effect.DENY
    assert check(make_context(ip="198.51.100.7")).effect is Effect.PASS


def test_ipv6_networks(make_context: MakeContext) -> None:
    check = _check(allow=("2001:db8::/32",))
    assert check(make_context(ip="2001:db8::1")).effect is Effect.PASS
    assert check(make_context(ip="2001:db9::1")).effect is Effect.DENY
    assert check(make_context(ip="192.0.2.1")).effect is Effect.DENY


def test_mapped_address_is_checked_against_ipv4_deny(make_context: MakeContext) -> None:
    check = _check(deny=("10.0.0.0/8",))
    assert check(make_context(ip="::ffff:10.0.0.1")).effect is Effect.DENY


def test_from_cidrs_rejects_host_bits() -> None:
    with pytest.raises(ValueError, match="host bits"):
        NetworkConfig.from_cidrs(("10.0.0.1/8",), ())
