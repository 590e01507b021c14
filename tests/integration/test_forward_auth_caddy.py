"""glassgate behind a real Caddy (examples/caddy/): allow, deny, step-up, 429, stripping."""

from __future__ import annotations

import pytest

from tests.support.peers import CaddyPeer, ForwardAuthSuite

pytestmark = pytest.mark.integration


class TestCaddyForwardAuth(ForwardAuthSuite):
    peer_class = CaddyPeer
