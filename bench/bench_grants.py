"""The hot-path cost of just-in-time grants (issue 13, point 6; nothing is asserted).

    .venv/bin/python bench/bench_grants.py [--iterations 100000] [--repeat 5] [--grants 1000]

Times ``Gate.check`` in-process, CPU time of this process (``time.process_time``),
for one allowed request of a principal *without* a grant, three ways,
interleaved per repeat so load on the machine hits them alike:

* no enrichers (grants off);
* the grants enricher (``GrantGroups``) holding ``--grants`` active grants of
  other people: the cost a grant-less principal pays, one dictionary lookup;
* the same, for a principal who *holds* a grant (the group is added).

The best of ``--repeat`` is shown per way, in microseconds per check, and the
difference from "no enrichers".
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace
from ipaddress import ip_address

from glassgate.adapters.http.gate import Gate
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.adapters.storage.quotas.memory import MemoryQuotaStore
from glassgate.config.load import load_config_text
from glassgate.core.principal import Principal
from glassgate.core.request import AccessRequest
from glassgate.ports import PrincipalEnricher
from glassgate.workflows.approvals import ApprovalRequest, ApprovalRule, ApprovalState
from glassgate.workflows.grant_groups import GrantGroups
from glassgate.workflows.grants import Grant

ISSUER = "https://idp.example.test"
NOW = 1_800_000_000.0
CONFIG = f"""\
version: 1
issuers:
  - {{id: idp, issuer: "{ISSUER}", audiences: [api://gateway]}}
routes:
  - id: staff
    match: {{path: /staff/*}}
    allow: {{groups: [Staff, Admins]}}
"""


class Fixed:
    """An authenticator that returns one principal (the token path is not what is timed)."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def authenticate(self, raw: str, now: float) -> Principal:
        return self.principal


def _grant(index: int, subject: str) -> Grant:
    rule = ApprovalRule.quorum("Admins", 2)
    approval = ApprovalRequest(f"gr_{index}", f"{ISSUER} {subject}", rule, NOW, NOW + 60)
    approved = replace(approval, state=ApprovalState.APPROVED)
    return Grant(f"gr_{index}", "t", "Admins", ISSUER, subject, "r", 3600.0, approved, NOW + 3600)


def _gate(subject: str, enrichers: tuple[PrincipalEnricher, ...]) -> Gate:
    compiled = load_config_text(CONFIG, "bench.yaml", {}).compiled
    principal = Principal(subject, ISSUER, frozenset({"Staff"}))
    return Gate(
        compiled.policy, Fixed(principal), MemoryQuotaStore(), {}, lambda: NOW,
        enrichers=enrichers,
    )  # fmt: skip


async def _time(gate: Gate, iterations: int) -> float:
    request = AccessRequest("GET", "/staff/x", ip_address("192.0.2.7"), "api")
    facts = RequestFacts(request, "/staff/x", b"", "token", False, False, None)
    started = time.process_time()
    for _ in range(iterations):
        await gate.check(facts)
    return (time.process_time() - started) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--grants", type=int, default=1000)
    args = parser.parse_args()
    index = GrantGroups()
    index.replace_all([_grant(i, f"user-{i}") for i in range(args.grants)], NOW)
    index.put(_grant(args.grants, "holder"), NOW)
    ways = {
        "no enrichers (grants off)": _gate("alice", ()),
        "grants on, principal without a grant": _gate("alice", (index,)),
        "grants on, principal with a grant": _gate("holder", (index,)),
    }
    best = {name: float("inf") for name in ways}
    for _ in range(args.repeat):
        for name, gate in ways.items():
            best[name] = min(best[name], asyncio.run(_time(gate, args.iterations)))
    base = best["no enrichers (grants off)"]
    print(f"Gate.check CPU time, best of {args.repeat} x {args.iterations:,} checks, "
          f"{args.grants:,} active grants of others in the index:")  # fmt: skip
    for name, value in best.items():
        delta = value - base
        print(f"  {name:<40} {value:7.2f} us/check  ({delta:+.2f} us, {delta / base:+.1%})")


if __name__ == "__main__":
    main()
