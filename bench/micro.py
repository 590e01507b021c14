"""Micro-benchmarks on one core: the pure core, token verification, audit appends.

    python bench/micro.py [--seconds 1.0] [--json]

- decisions per second of ``glassgate.core.engine.decide`` on the compiled
  ``examples/reference.yaml`` with a verified principal, alternating the
  ``/reports`` route and the ``/admin`` step-up route (both allowed);
- token verifications per second, uncached and cached, RS256 and ES256, from
  ``bench/bench_tokens.py`` (owned by the tokens work) when it exists;
- the audit append rate from ``bench/bench_audit.py`` (owned by the audit
  work) when it exists: its table is copied into the report as printed;
- the stage budget (``bench/stages.py``): CPU µs per stage of one request.

``run_micro`` runs this file pinned to the server core and returns a dict.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ipaddress import ip_address  # noqa: E402

from bench.procs import SERVER_CPU, pinned  # noqa: E402
from bench.stages import run_stages  # noqa: E402
from glassgate.config.load import load_config  # noqa: E402
from glassgate.core.engine import decide  # noqa: E402
from glassgate.core.principal import Principal  # noqa: E402
from glassgate.core.request import AccessRequest  # noqa: E402

__all__ = ["decisions_per_second", "run_micro"]

# "<name>: 12,345/s ..." or "<name>   12,345/s wall ...": the first rate on the line.
_RATE = re.compile(r"^\s*(?P<name>.+?)(?::\s*|\s{2,})(?P<rate>\d[\d,]*(?:\.\d+)?)\s*(?:/s|\s)")


def decisions_per_second(seconds: float) -> float:
    env = {"GLASSGATE_ISSUER": "https://idp.example", "GLASSGATE_AUDIENCE": "api://gateway"}
    loaded = load_config(ROOT / "examples" / "reference.yaml", env)
    policy = loaded.compiled.policy
    now = time.time()
    principal = Principal(
        subject="00u1alice",
        issuer="https://idp.example",
        groups=frozenset({"Everyone", "Analysts", "Admins"}),
        scopes=frozenset({"openid", "reports.read"}),
        amr=frozenset({"pwd", "mfa", "hwk"}),
        auth_time=int(now) - 60,
        expires_at=now + 3600,
    )
    client = ip_address("10.1.2.3")
    requests = [
        AccessRequest("GET", "/reports/q3/summary", client, "api.example"),
        AccessRequest("GET", "/admin/users/42", client, "api.example"),
    ]
    for request in requests:
        decision = decide(policy, request, principal, now)
        if not decision.allowed:
            raise RuntimeError(f"the micro-benchmark principal is not allowed: {decision}")
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    first, second = requests
    while True:
        for _ in range(500):
            decide(policy, first, principal, now)
            decide(policy, second, principal, now)
        count += 1000
        elapsed = time.perf_counter() - start
        if time.perf_counter() >= deadline:
            return count / elapsed


def _script(name: str, args: list[str]) -> tuple[list[str], str | None]:
    """Run ``bench/<name> ARGS`` pinned; (output lines, problem)."""
    path = ROOT / "bench" / name
    if not path.exists():
        return [], f"bench/{name} does not exist yet"
    argv = pinned(SERVER_CPU, [sys.executable, str(path), *args])
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=180, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return [], f"bench/{name} did not finish in time"
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return lines, f"bench/{name} failed ({done.returncode}): {tail[0]}"
    return lines, None


def _rates(lines: list[str]) -> dict[str, float]:
    out = {}
    for line in lines:
        match = _RATE.match(line)
        if match:
            out[match["name"].strip()] = float(match["rate"].replace(",", ""))
    return out


def run_micro(seconds: float) -> dict[str, Any]:
    """All micro-benchmarks, each in a process pinned to the server core."""
    argv = pinned(SERVER_CPU, [sys.executable, __file__, "--seconds", str(seconds), "--json"])
    result: dict[str, Any] = {"problems": []}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    if done.returncode == 0:
        result["decisions_per_second"] = json.loads(done.stdout)["decisions_per_second"]
    else:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        result["problems"].append(f"decide(): {tail[0]}")
    lines, problem = _script("bench_tokens.py", ["--seconds", str(seconds)])
    result["tokens"] = _rates(lines)
    if problem:
        result["problems"].append(problem)
    elif lines and not result["tokens"]:
        result["problems"].append(f"bench/bench_tokens.py printed no rate I can read: {lines[0]}")
    scale = max(0.1, min(seconds, 1.0))
    with tempfile.TemporaryDirectory(prefix="glassgate-bench-audit-") as tmp:
        audit_args = ["--privileged", str(int(300 * scale)), "--ordinary", str(int(10_000 * scale))]
        lines, problem = _script("bench_audit.py", [*audit_args, "--dir", tmp])
    result["audit_lines"] = lines
    if problem:
        result["problems"].append(problem)
    stages = run_stages(max(0.1, seconds / 3))
    result["stages"] = stages["stages"]
    result["problems"].extend(stages["problems"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="decide() only, as JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps({"decisions_per_second": decisions_per_second(args.seconds)}))
        return
    print(json.dumps(run_micro(args.seconds), indent=2))


if __name__ == "__main__":
    main()
