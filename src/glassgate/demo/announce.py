"""What ``glassgate demo`` prints once everything is ready: for people, or as JSON.

The development-only warning comes first and last, because the tokens in
between are long enough to scroll the first one off the screen. Nothing secret
is printed: tokens are bearer credentials for this demo's throwaway issuer only
(they die with the process), and the issuer's private key never leaves
``DevIssuer``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from glassgate.demo.breakglass import EnrolmentLink
from glassgate.demo.issuer import DEV_ONLY_NOTICE
from glassgate.demo.samples import Sample, curl_command

__all__ = ["DemoInfo", "render_json", "render_text", "summary"]

_RULE = "=" * 78
RECOVERY_PATH = "/api/idp-admin/settings"


@dataclass(frozen=True, slots=True)
class DemoInfo:
    gateway: str
    issuer: str
    discovery_uri: str
    jwks_uri: str
    upstream: str
    config_path: str
    expires_at: int
    samples: tuple[Sample, ...]
    console: str = ""  # the break-glass console (http://localhost:PORT, the WebAuthn origin)
    links: tuple[EnrolmentLink, ...] = ()  # one-time enrolment links, shown once

    @property
    def recovery_url(self) -> str:
        """The demo's recovery route, on the host name the console's cookie is for."""
        return self.gateway.replace("//127.0.0.1:", "//localhost:") + RECOVERY_PATH


def summary(info: DemoInfo) -> dict[str, Any]:
    return {
        "development_only": True,
        "warning": DEV_ONLY_NOTICE,
        "gateway": info.gateway,
        "issuer": info.issuer,
        "discovery_uri": info.discovery_uri,
        "jwks_uri": info.jwks_uri,
        "upstream": info.upstream,
        "config": info.config_path,
        "tokens_expire_at": info.expires_at,
        "samples": [sample.as_dict(info.gateway) for sample in info.samples],
        "breakglass": {
            "console": info.console,
            "recovery_url": info.recovery_url,
            "enrolment_links": [
                {"role": link.role, "name": link.name, "url": link.url} for link in info.links
            ],
        },
    }


def render_json(info: DemoInfo) -> str:
    """One line, so a reader can take it with ``readline()`` while the demo runs."""
    return json.dumps(summary(info), separators=(",", ":"))


def _banner() -> list[str]:
    first, _, second = DEV_ONLY_NOTICE.partition("; ")
    return [_RULE, f"  {first};", f"  {second}.", _RULE]


def render_text(info: DemoInfo) -> str:
    expires = datetime.fromtimestamp(info.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        *_banner(),
        "",
        "glassgate demo is running. Press Ctrl-C to stop.",
        "",
        f"  gateway   {info.gateway}",
        f"  issuer    {info.issuer}  (development only)",
        f"  upstream  {info.upstream}  (sample API: echoes what it received)",
        f"  config    {info.config_path}  (edit it: the gateway reloads)",
        f"  tokens    valid until {expires}",
        "",
        "Try these; the comment above each says what it shows and the status to expect.",
    ]
    for number, sample in enumerate(info.samples, start=1):
        expect = " ".join(str(status) for status in sample.expect)
        lines += ["", f"# {number}. {sample.name}: expect {expect}", f"#    {sample.title}"]
        lines.append(curl_command(sample, info.gateway))
    lines += _breakglass_text(info)
    lines += ["", *_banner()]
    return "\n".join(lines) + "\n"


def _breakglass_text(info: DemoInfo) -> list[str]:
    if not info.links:
        return []
    width = max(len(f"{link.role} {link.name}") for link in info.links)
    return [
        "",
        "# Break-glass: the way back in when the IdP is down. In a browser with a passkey",
        "# or a security key (one profile per person, or sign out in between):",
        f"#   console  {info.console}",
        "# 1. Enrol each identity with its one-time link (it works once, for one hour):",
        *(f"#      {f'{link.role} {link.name}':<{width}}  {link.url}" for link in info.links),
        "# 2. Sign in as demo-admin (password and key) and request access.",
        "# 3. Sign in as demo-alice, then demo-bob, and approve with the key.",
        "# 4. As demo-admin, start the session, then open",
        f"#      {info.recovery_url}",
        "#    The sample API shows the sealed IdP token arrived, never its value; every",
        "#    other route answers 403. Alerts are printed below as [alert] lines.",
    ]
