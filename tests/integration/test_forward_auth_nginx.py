"""glassgate behind a real Nginx (examples/nginx/): allow, deny, step-up, 429, stripping."""

from __future__ import annotations

import pytest

from tests.support.peers import ForwardAuthSuite, NginxPeer

pytestmark = pytest.mark.integration


class TestNginxForwardAuth(ForwardAuthSuite):
    peer_class = NginxPeer
