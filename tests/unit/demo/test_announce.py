"""demo.announce: the banner frames the commands; JSON is one parseable line."""

from __future__ import annotations

import json
from dataclasses import replace

from glassgate.demo.announce import DemoInfo, render_json, render_text, summary
from glassgate.demo.breakglass import EnrolmentLink
from glassgate.demo.issuer import DEV_ONLY_NOTICE
from glassgate.demo.samples import Sample, curl_command

SAMPLES = (
    Sample("allow", "any token", "/api/public/hello", "a.b.c", (200,)),
    Sample("rate-limit", "quick calls", "/api/limited/items", "d.e.f", (200, 200, 429, 429)),
)
INFO = DemoInfo(
    gateway="http://127.0.0.1:8080",
    issuer="http://127.0.0.1:9400/development-only",
    discovery_uri="http://127.0.0.1:9400/development-only/.well-known/openid-configuration",
    jwks_uri="http://127.0.0.1:9400/development-only/jwks.json",
    upstream="http://127.0.0.1:9000",
    config_path="/tmp/d/glassgate-demo.yaml",
    expires_at=1_700_003_600,
    samples=SAMPLES,
)


def test_text_opens_and_closes_with_the_development_only_banner() -> None:
    lines = render_text(INFO).splitlines()
    assert lines[1] == "  DEVELOPMENT ONLY: tokens are signed by a throwaway key generated now;"
    assert lines[2] == "  never use this issuer in production."
    assert lines[:4] == lines[-4:]
    assert lines[0] == lines[3] == "=" * 78


def test_text_lists_addresses_expiry_and_each_command_with_its_expectation() -> None:
    text = render_text(INFO)
    for value in (INFO.gateway, INFO.issuer, INFO.upstream, INFO.config_path):
        assert value in text
    assert "valid until 2023-11-14 23:13 UTC" in text
    assert "Ctrl-C" in text
    lines = text.splitlines()
    first = lines.index("# 1. allow: expect 200")
    assert lines[first + 1] == "#    any token"
    assert lines[first + 2] == curl_command(SAMPLES[0], INFO.gateway)
    second = lines.index("# 2. rate-limit: expect 200 200 429 429")
    assert lines[second + 2] == curl_command(SAMPLES[1], INFO.gateway)


def test_json_is_one_line_with_everything_a_test_needs() -> None:
    text = render_json(INFO)
    assert "\n" not in text
    document = json.loads(text)
    assert document == summary(INFO)
    assert document["development_only"] is True
    assert document["warning"] == DEV_ONLY_NOTICE
    assert document["gateway"] == INFO.gateway
    assert document["tokens_expire_at"] == INFO.expires_at
    assert [s["name"] for s in document["samples"]] == ["allow", "rate-limit"]
    assert document["samples"][1]["expect"] == [200, 200, 429, 429]
    assert document["samples"][0]["url"] == "http://127.0.0.1:8080/api/public/hello"


LINKS = (
    EnrolmentLink("break-glass account", "demo-admin", "http://localhost:8081/enrol/AAA"),
    EnrolmentLink("custodian", "demo-alice", "http://localhost:8081/enrol/BBB"),
)
WITH_BREAKGLASS = replace(INFO, console="http://localhost:8081", links=LINKS)


def test_the_break_glass_path_is_printed_with_each_one_time_link() -> None:
    text = render_text(WITH_BREAKGLASS)
    assert "#   console  http://localhost:8081" in text
    assert "break-glass account demo-admin  http://localhost:8081/enrol/AAA" in text
    assert "custodian demo-alice            http://localhost:8081/enrol/BBB" in text  # aligned
    # the cookie is for localhost: the recovery route is printed on that host name
    assert "http://localhost:8080/api/idp-admin/settings" in text
    assert text.splitlines()[-4:] == text.splitlines()[:4], "the banner still closes it"
    assert "Break-glass" not in render_text(INFO), "no links: no section"


def test_the_json_summary_carries_the_break_glass_path() -> None:
    breakglass = json.loads(render_json(WITH_BREAKGLASS))["breakglass"]
    assert breakglass == {
        "console": "http://localhost:8081",
        "recovery_url": "http://localhost:8080/api/idp-admin/settings",
        "enrolment_links": [
            {"role": "break-glass account", "name": "demo-admin", "url": LINKS[0].url},
            {"role": "custodian", "name": "demo-alice", "url": LINKS[1].url},
        ],
    }
