"""glassgate behind a real Nginx (examples/nginx/): allow, deny, step-up, 429, stripping."""

from __future__ import annotations

import pytest

from tests.support.peers import ForwardAuthSuite, NginxPeer, Stack

pytestmark = pytest.mark.integration


class TestNginxForwardAuth(ForwardAuthSuite):
    peer_class = NginxPeer

    def test_a_metered_answer_carries_the_quota(self, fa: Stack) -> None:
        # The nginx example copies glassgate's RateLimit headers onto every answer.
        token = fa.token(sub="rate-reader")
        response = fa.request("/limited/a", token)
        assert response.status_code == 200
        assert response.headers["ratelimit-policy"].startswith('"tiny";')
        assert response.headers["ratelimit"].startswith('"tiny";r=')
        assert "ratelimit" not in fa.request("/public/a", token).headers
