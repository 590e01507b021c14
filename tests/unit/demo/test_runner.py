"""demo.runner: the parts that need no running gateway (the integration test runs it)."""

from __future__ import annotations

import socket

import pytest

from glassgate.demo import runner


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_default_port_falls_back_to_a_free_one_when_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with _listening() as taken:
        busy = taken.getsockname()[1]
        monkeypatch.setattr(runner, "DEFAULT_PORT", busy)
        with runner._gateway_socket(None) as sock:
            assert sock.getsockname()[0] == "127.0.0.1"
            assert sock.getsockname()[1] not in (0, busy)


def test_default_port_is_used_when_free(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setattr(runner, "DEFAULT_PORT", free)
    with runner._gateway_socket(None) as sock:
        assert sock.getsockname()[1] == free


def test_an_explicit_port_that_is_taken_is_an_error() -> None:
    with _listening() as taken, pytest.raises(OSError, match="in use"):
        runner._gateway_socket(taken.getsockname()[1])


def test_port_zero_means_any_free_port() -> None:
    with runner._gateway_socket(0) as sock:
        assert sock.getsockname()[1] != 0
