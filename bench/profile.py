"""Where glassgate's time goes under load: py-spy on the gateway while wrk drives it.

    .venv/bin/python bench/profile.py [--scenario glassgate] [--duration 15] [--svg]

Starts the upstream and one glassgate variant as ``bench/run.py`` does
(except that the upstream runs on the load core: a gateway preempted by an
upstream on its own core still looks busy to a sampler), warms it up, then
runs wrk and ``py-spy record`` (pinned to the load core) for ``--duration``.
Prints the top frames by own and by inclusive time, grouped by function
(line numbers dropped), and writes ``bench/results/<stamp>-profile-<scenario>.txt``
with the raw collapsed stacks next to it (``.collapsed``), plus a flame graph
``.svg`` with ``--svg`` (from a second recording of the same length).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gateway import LOAD_PATHS  # noqa: E402
from bench.peers import tool  # noqa: E402
from bench.procs import LOAD_CPU, SERVER_CPU, Supervisor, pinned  # noqa: E402
from bench.scenarios import SCENARIOS, Services  # noqa: E402
from bench.tokenpool import make_pool  # noqa: E402
from bench.wrk import run_wrk, write_script  # noqa: E402

__all__ = ["summarise_collapsed"]

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME_LINE = re.compile(r":\d+\)$")
_PROFILED = ("glassgate", "glassgate-nocache", "glassgate-granian", "forward-auth")


def _frame(raw: str) -> str:
    """``fn (path/to/module.py:123)`` -> ``fn (to/module.py)``: group by function."""
    name = _FRAME_LINE.sub(")", raw.strip())
    head, _, where = name.partition(" (")
    parts = where.rstrip(")").split("/")
    return f"{head} ({'/'.join(parts[-3:])})" if where else head


def summarise_collapsed(text: str, top: int = 30) -> str:
    """Own and inclusive shares per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        count = int(match["count"])
        frames = [_frame(f) for f in match["stack"].split(";") if f]
        # py-spy puts the thread ("process 1:"...) first; real frames follow.
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return "no samples\n"
    out = [f"{total} samples", "", "own time (the frame itself, C calls it makes included):"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive time (the frame and everything it calls):"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(out) + "\n"


def _record(
    pid: int, seconds: int, output: Path, fmt: str, rate: int, native: bool
) -> subprocess.Popen[bytes]:
    argv = [tool("py-spy"), "record", "-p", str(pid), "-d", str(seconds), "-r", str(rate)]
    argv += ["-f", fmt, "-o", str(output), "--subprocesses"]
    # --native needs to pause the process for each sample; without it, never pause.
    argv += ["--native"] if native else ["--nonblocking"]
    return subprocess.Popen(
        pinned(LOAD_CPU, argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _profile_once(
    services: Services, key: str, script: Path, args: argparse.Namespace, out: Path, fmt: str
) -> str:
    scenario = SCENARIOS[key]
    gate = services.get(scenario.cpu[-1])
    front = services.get(scenario.front)
    spy = _record(gate.pid, args.duration, out, fmt, args.rate, args.native)
    result = run_wrk(f"http://127.0.0.1:{front.port}", script, args.duration, args.connections)
    _, err = spy.communicate(timeout=args.duration + 60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
    return (
        f"{scenario.label}: {result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms, "
        f"non-2xx {result.non_2xx} (while sampled at {args.rate} Hz)\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=_PROFILED, default="glassgate")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--svg", action="store_true", help="also record a flame graph")
    parser.add_argument(
        "--native", action="store_true", help="C frames too (pauses the target per sample)"
    )
    parser.add_argument("--no-access-log", action="store_true", help="as in run.py")
    parser.add_argument("--gc-tuned", action="store_true", help="as in run.py (experiment)")
    parser.add_argument(
        "--upstream-on-server-core",
        action="store_true",
        help="as in run.py (default: upstream on the load core, so samples are the gateway's)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-profile-{args.scenario}"
    stamp += "-native" if args.native else ""
    args.out.mkdir(parents=True, exist_ok=True)
    pool = make_pool(args.tokens, args.subjects)
    with (
        tempfile.TemporaryDirectory(prefix="glassgate-profile-") as tmp,
        Supervisor(Path(tmp)) as sup,
    ):
        upstream_cpu = SERVER_CPU if args.upstream_on_server_core else LOAD_CPU
        services = Services(
            sup,
            pool.jwks,
            pool.tokens[0],
            upstream_cpu=upstream_cpu,
            access_log=not args.no_access_log,
            gc_tuned=args.gc_tuned,
        )
        script = write_script(Path(tmp) / "rotate.lua", pool.tokens, LOAD_PATHS)
        front = services.get(SCENARIOS[args.scenario].front)
        run_wrk(f"http://127.0.0.1:{front.port}", script, 3, args.connections)  # warm-up
        raw = args.out / f"{stamp}.collapsed"
        header = _profile_once(services, args.scenario, script, args, raw, "raw")
        summary = header + "\n" + summarise_collapsed(raw.read_text(), args.top)
        if args.svg:
            svg = args.out / f"{stamp}.svg"
            _profile_once(services, args.scenario, script, args, svg, "flamegraph")
            summary += f"\nflame graph: {svg}\n"
    target = args.out / f"{stamp}.txt"
    target.write_text(summary)
    print(summary)
    print(f"written: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
