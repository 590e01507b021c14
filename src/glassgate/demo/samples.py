"""The demo's sample requests: who calls what, which status to expect, and why.

Each sample pairs a persona's token with a path of the demo policy
(``demo.config``) and the status(es) the gateway must answer. The same list is
printed as ``curl`` commands for people and as JSON for tests, and the unit
tests decide every sample against the rendered policy, so the printed
expectations cannot drift from the configuration.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from glassgate.demo.config import BREAKGLASS_ACR, MAX_AUTH_AGE, QUOTA_BURST
from glassgate.demo.issuer import DevIssuer

__all__ = ["Sample", "build_samples", "curl_command"]


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    title: str
    path: str
    token: str | None
    expect: tuple[int, ...]  # one status per request, in order
    method: str = "GET"

    def as_dict(self, gateway_url: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "method": self.method,
            "url": gateway_url + self.path,
            "token": self.token,
            "expect": list(self.expect),
            "curl": curl_command(self, gateway_url),
        }


def build_samples(issuer: DevIssuer) -> tuple[Sample, ...]:
    """Mint one token per persona; every token comes from the throwaway demo key."""
    mint = issuer.mint
    minutes = MAX_AUTH_AGE // 60
    quick = QUOTA_BURST + 2
    return (
        Sample(
            "allow",
            "any valid token may call /api/public/*; the answer shows the "
            "X-Glassgate-* identity headers the upstream received",
            "/api/public/hello",
            mint("alice", groups=["Analysts"]),
            (200,),
        ),
        Sample(
            "no-token",
            "no token at all: 401 with WWW-Authenticate: Bearer",
            "/api/public/hello",
            None,
            (401,),
        ),
        Sample(
            "allow-group",
            "alice is in Analysts, so /api/reports/* lets her in",
            "/api/reports/q3",
            mint("alice", groups=["Analysts"]),
            (200,),
        ),
        Sample(
            "deny",
            "bob is in Analysts and Contractors: the deny list wins, 403",
            "/api/reports/q3",
            mint("bob", groups=["Analysts", "Contractors"]),
            (403,),
        ),
        Sample(
            "allow-mfa",
            f"carol is an Admin who passed MFA when the demo started; after {minutes} "
            "minutes the same token needs a step-up (max_auth_age)",
            "/api/admin/users",
            mint("carol", groups=["Admins"], amr=["pwd", "mfa"]),
            (200,),
        ),
        Sample(
            "step-up",
            "dave is an Admin who signed in with a password only: 401 with "
            'WWW-Authenticate: Bearer error="insufficient_user_authentication" (RFC 9470)',
            "/api/admin/users",
            mint("dave", groups=["Admins"], amr=["pwd"]),
            (401,),
        ),
        Sample(
            "rate-limit",
            f"erin may make {QUOTA_BURST} quick calls to /api/limited/*; the rest get 429 "
            "with Retry-After",
            "/api/limited/items",
            mint("erin", groups=["Staff"]),
            (200,) * QUOTA_BURST + (429,) * (quick - QUOTA_BURST),
        ),
        Sample(
            "break-glass",
            f"frank holds a break-glass session (acr {BREAKGLASS_ACR}) and calls from this "
            "machine; from any other network the same token gets 403",
            "/api/breakglass/status",
            mint("frank", groups=["BreakGlass"], acr=BREAKGLASS_ACR),
            (200,),
        ),
    )


def curl_command(sample: Sample, gateway_url: str) -> str:
    """A command that runs in any POSIX shell, the token inline."""
    url = shlex.quote(gateway_url + sample.path)
    auth = ""
    if sample.token is not None:
        auth = " -H " + shlex.quote(f"Authorization: Bearer {sample.token}")
    method = "" if sample.method == "GET" else f" -X {sample.method}"
    if len(sample.expect) == 1:  # -w: end with a newline, as the JSON error bodies do not
        return f"curl -i -w '\\n'{method}{auth} {url}"
    counts = " ".join(str(n) for n in range(1, len(sample.expect) + 1))
    return (
        f"for i in {counts}; do curl -s -o /dev/null -D -{method}{auth} {url}"
        " | grep -iE '^(HTTP/|retry-after)'; done"
    )
