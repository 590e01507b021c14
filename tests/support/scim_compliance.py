"""scim2-tester results against a committed baseline: the build fails on any check
that passed before (SPEC C6, issue 12).

A check is keyed by its title and its reason with ids, UUIDs and URLs taken out
(the tester names the resources it creates), and counted: several checks share
a title. ``compare`` fails when any key passes fewer times than in the
baseline; new passes are reported, to be added with ``--write-baseline``.

    scim2 --url http://HOST/scim/v2 test | python -m tests.support.scim_compliance
    python -m tests.support.scim_compliance --write-baseline < scim2-test-output.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "vectors" / "scim" / "compliance-baseline.txt"
STATUSES = ("SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED")
_NOISE = re.compile(
    r"https?://\S+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32}\b"
)


def key(title: str, reason: str) -> str:
    reason = _NOISE.sub("<id>", " ".join(reason.split()))
    return f"{title} | {reason}" if reason else title


def parse_cli(lines: Iterable[str]) -> list[tuple[str, str]]:
    """``scim2 ... test`` output -> (status, key) per check."""
    checks: list[list[str]] = []
    for raw in lines:
        line = raw.rstrip("\n")
        head, _, rest = line.partition(" ")
        if head in STATUSES and rest and not line.startswith(" "):
            checks.append([head, rest.strip(), ""])
        elif line.startswith("  ") and checks and not checks[-1][2]:
            checks[-1][2] = line.strip()
    return [(status, key(title, reason)) for status, title, reason in checks]


def summary(results: list[tuple[str, str]]) -> str:
    counts = Counter(status for status, _ in results)
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    return f"scim2-tester: {len(results)} checks ({parts})"


def compare(
    results: list[tuple[str, str]], baseline: Counter[str]
) -> tuple[Counter[str], Counter[str]]:
    """(checks that passed before and do not now, checks that pass now and did not)."""
    passing = Counter(k for status, k in results if status == "SUCCESS")
    return baseline - passing, passing - baseline


def read_baseline(path: Path = BASELINE) -> Counter[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return Counter(line for line in lines if line and not line.startswith("#"))


def write_baseline(results: list[tuple[str, str]], path: Path = BASELINE) -> None:
    passing = sorted(k for status, k in results if status == "SUCCESS")
    header = "# scim2-tester checks that pass against glassgate; a regression fails the build.\n"
    path.write_text(header + "\n".join(passing) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-baseline", action="store_true")
    args = parser.parse_args()
    results = parse_cli(sys.stdin)
    print(summary(results))
    if not results:
        print("scim2-tester: no checks ran (could the server be reached?)", file=sys.stderr)
        return 1
    if args.write_baseline:
        write_baseline(results)
        print(f"baseline written: {sum(1 for s, _ in results if s == 'SUCCESS')} passing checks")
        return 0
    lost, gained = compare(results, read_baseline())
    for check in sorted(gained):
        print(f"  newly passing (add with --write-baseline): {check}")
    for check in sorted(lost):
        print(f"  REGRESSION, passed before: {check}", file=sys.stderr)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
