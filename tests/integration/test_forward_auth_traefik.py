"""glassgate behind a real Traefik (examples/traefik/): allow, deny, step-up, 429, stripping."""

from __future__ import annotations

import pytest

from tests.support.peers import ForwardAuthSuite, TraefikPeer

pytestmark = pytest.mark.integration


class TestTraefikForwardAuth(ForwardAuthSuite):
    peer_class = TraefikPeer
