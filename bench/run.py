"""glassgate against nginx, Caddy and Traefik, in one run, on this machine.

    .venv/bin/python bench/run.py --passes 5 --duration 5     # the full run
    .venv/bin/python bench/run.py --smoke                      # CI: 1 pass, 1 s, no verdicts

wrk (one thread) is pinned to CPU 0, every server to CPU 1. All servers start
once and stay up; each pass measures every scenario once, in a different
order (forward, reversed, then shuffled); medians over passes are reported,
and ratios to nginx and Caddy are taken within each pass. Results are printed
and written to ``bench/results/<timestamp>.md`` and ``.json``. See README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.asgi_app import _transport_is_kept  # noqa: E402
from bench.cpu import (  # noqa: E402
    children_cpu_seconds,
    cpu_seconds,
    machine_busy_seconds,
    rss_bytes,
)
from bench.gateway import LOAD_PATHS, audit_records, has_audit_config  # noqa: E402
from bench.micro import run_micro  # noqa: E402
from bench.peers import tool  # noqa: E402
from bench.procs import LOAD_CPU, SERVER_CPU, Supervisor  # noqa: E402
from bench.scenarios import MAIN, SCENARIOS, Scenario, Services, UnavailableError  # noqa: E402
from bench.soak import run_soak  # noqa: E402
from bench.tokenpool import make_pool  # noqa: E402
from bench.wrk import run_wrk, write_script  # noqa: E402

__all__ = ["Options", "main", "run"]


class Options(argparse.Namespace):
    passes: int
    duration: float
    connections: int
    tokens: int
    subjects: int
    scenarios: list[str]
    seed: int
    smoke: bool
    micro_seconds: float
    warmup: float
    no_audit: bool
    out: Path
    title: str
    tag: str
    no_micro: bool
    retries: int
    max_other_load: float
    log_level: str
    no_access_log: bool
    gc_tuned: bool
    audit_sample_rate: float
    soak: float
    soak_slice: float


def parse(argv: Sequence[str] | None = None, default_scenarios: Sequence[str] = MAIN) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=3, help="passes over all scenarios (3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (5)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--tokens", type=int, default=4000, help="distinct tokens in the pool")
    parser.add_argument("--subjects", type=int, default=1000, help="callers sharing the pool")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=list(default_scenarios),
        choices=sorted(SCENARIOS),
        help="which rows, default: " + " ".join(default_scenarios),
    )
    parser.add_argument("--seed", type=int, default=5, help="shuffle seed for pass orders")
    parser.add_argument("--smoke", action="store_true", help="1 pass, 1 s, short micro; for CI")
    parser.add_argument("--micro-seconds", type=float, default=1.0, help="per micro-benchmark")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per scenario, once")
    parser.add_argument(
        "--no-audit",
        action="store_true",
        help="audit.sample_rate 0: allowed decisions unrecorded (the log itself cannot be off)",
    )
    parser.add_argument(
        "--audit-sample-rate",
        type=float,
        default=1.0,
        help="audit.sample_rate for allowed decisions (1.0, the shipped default)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--title", default="glassgate vs nginx, Caddy, Traefik")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    parser.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument(
        "--max-other-load",
        type=float,
        default=0.25,
        help="cores used by other programs above which a measurement is retried (0.25)",
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a noisy measurement")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["info", "warning"],
        help="glassgate's --log-level (info, serve's default)",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="glassgate with observability.access_log: false (default: on, as shipped)",
    )
    parser.add_argument(
        "--gc-tuned",
        action="store_true",
        help="experiment: glassgate with gc.freeze() and a gen-0 threshold of 50,000",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="soak mode: drive one glassgate row (the first of --scenarios that is one, "
        "default row 5) for SECONDS and report RSS and descriptor growth (bench/soak.py)",
    )
    parser.add_argument("--soak-slice", type=float, default=30.0, help="seconds per soak sample")
    options = parser.parse_args(argv, namespace=Options())
    if options.smoke:
        options.passes, options.duration, options.warmup, options.retries = 1, 1.0, 0.0, 0
        options.micro_seconds = min(options.micro_seconds, 0.3)
    return options


def pass_orders(keys: Sequence[str], passes: int, seed: int) -> list[list[str]]:
    """Forward, reversed, then shuffled: no scenario always runs first or last."""
    rng = random.Random(seed)
    orders = []
    for index in range(passes):
        order = list(keys)
        if index % 2 == 1:
            order.reverse()
        if index >= 2:
            rng.shuffle(order)
        orders.append(order)
    return orders


def _measure(
    scenario: Scenario,
    services: Services,
    script: Path,
    options: Options,
    pass_index: int,
    position: int,
) -> report.Measurement:
    front = services.get(scenario.front)
    ours = [services.get(name).pid for name in scenario.cpu]
    upstream = services.get("upstream").pid
    everyone = [server.pid for server in services.started.values()]

    def sample() -> tuple[float, ...]:
        return (
            cpu_seconds(ours),
            cpu_seconds([upstream]),
            cpu_seconds(everyone),
            children_cpu_seconds(),
            machine_busy_seconds(),
        )

    before = sample()
    url = f"http://127.0.0.1:{front.port}"
    result = run_wrk(url, script, options.duration, options.connections)
    after = sample()
    delta = [a - b for a, b in zip(after, before, strict=True)]
    foreign = max(0.0, delta[4] - delta[2] - delta[3]) / max(result.seconds, 1e-9)
    requests = max(result.requests, 1)
    upstream_us = delta[1] / requests * 1e6
    server_us = delta[0] / requests * 1e6
    if scenario.key == "direct":
        upstream_us = server_us
    rss = rss_bytes(ours) / 2**20 if scenario.glassgate else rss_bytes([front.pid]) / 2**20
    return report.Measurement(
        scenario=scenario.key,
        pass_index=pass_index,
        order=position,
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        non_2xx=result.non_2xx,
        socket_errors=result.socket_errors,
        requests=result.requests,
        server_us=server_us,
        upstream_us=upstream_us,
        core_busy=delta[2] / max(result.seconds, 1e-9),
        rss_mb=rss,
        foreign=foreign,
    )


def _quiet_measure(
    scenario: Scenario,
    services: Services,
    script: Path,
    options: Options,
    pass_index: int,
    position: int,
) -> report.Measurement:
    """Measure; while something else loads the machine, retry and keep the quietest try."""
    tries: list[report.Measurement] = []
    for attempt in range(options.retries + 1):
        row = _measure(scenario, services, script, options, pass_index, position)
        tries.append(row)
        noisy = row.foreign > options.max_other_load
        print(
            f"pass {pass_index + 1}/{options.passes} {scenario.key:<18} {row.rps:>9,.0f} req/s "
            f"p99 {row.p99_ms:6.2f} ms  cpu {row.server_us:6.1f} µs/req "
            f"non-2xx {row.non_2xx}  other load {row.foreign:.2f}"
            + (" (noisy: retry)" if noisy and attempt < options.retries else ""),
            flush=True,
        )
        if not noisy:
            break
        time.sleep(min(5.0, options.duration))
    return min(tries, key=lambda m: m.foreign)


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def _meta(options: Options, started: str) -> dict[str, Any]:
    def version_of(name: str, *args: str) -> str:
        try:
            return _version([tool(name), *args])
        except FileNotFoundError:
            return "not found"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "started": started,
        "passes": options.passes,
        "duration": options.duration,
        "connections": options.connections,
        "tokens": options.tokens,
        "subjects": options.subjects,
        "load_cpu": LOAD_CPU,
        "server_cpu": SERVER_CPU,
        "cpu": f"{cpu} x{os.cpu_count()}",
        "python": platform.python_version(),
        "glassgate_commit": _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "nginx": version_of("nginx", "-v"),
        "caddy": version_of("caddy", "version").split(" ")[0],
        "traefik": version_of("traefik", "version").replace("Version:", "").strip(),
        "wrk": version_of("wrk", "--version").split(" [")[0],
        "load_paths": " ".join(LOAD_PATHS),
    }


def _notes(options: Options, services: Services, patched: bool) -> list[str]:
    notes = [
        "Every row gets the same wrk script: `Authorization: Bearer` rotating over "
        f"{options.tokens} distinct RS256 tokens ({options.subjects} subjects) and the paths "
        f"{', '.join(LOAD_PATHS)}; the plain proxies pass the header through.",
        "server CPU = utime+stime from /proc of the row's server processes and their "
        "children, upstream excluded (row 6 counts nginx and its glassgate); 'server core busy' "
        "counts every server process, upstream included, over the wall time.",
        "Row 7 runs the same app with the verified-token cache cut to one entry "
        "(bench/launch.py --no-token-cache): with thousands of rotating tokens every request "
        "is verified from scratch. glassgate has no config switch for this.",
        "non-2xx is wrk's count of responses with status >= 400.",
        "'other load' is the CPU (in cores; median/max over passes) that programs outside "
        "this run used during the row's measurements (/proc/stat minus the servers and wrk). "
        f"A measurement above {options.max_other_load} was retried up to {options.retries} "
        "times and the quietest try kept; a row whose figure stays above ~0.1 is suspect.",
    ]
    if patched:
        notes.append(
            "WORKAROUND ACTIVE: glassgate's UpstreamConnection.connection_made drops uvloop's "
            "transport (not an asyncio.Transport subclass), so every proxied request would be "
            "502; bench/asgi_app.py patched it in the benchmark processes only."
        )
    if has_audit_config():
        rate = 0.0 if options.no_audit else options.audit_sample_rate
        written = {
            name: audit_records(services.sup.workdir, name)
            for name in services.started
            if name.startswith("glassgate")
        }
        shown = ", ".join(f"{name}: {count}" for name, count in written.items())
        notes.append(
            "glassgate audit log: SQLite in the run's temp dir, sample_rate "
            f"{rate:g} for allowed decisions; "
            f"audit records written per instance: {shown or 'none'} (None: no database "
            "was opened, i.e. this glassgate does not wire the audit log into serve yet)."
        )
    else:
        notes.append("this glassgate has no audit config keys.")
    if options.gc_tuned:
        notes.append("EXPERIMENT: glassgate with gc.freeze() and gc.set_threshold(50_000, 20, 20).")
    if options.no_access_log:
        notes.append("glassgate runs with observability.access_log: false (metrics still on).")
    else:
        notes.append(
            "glassgate's observability is at its defaults: the access log (one JSON line per "
            "request, to the log file) and metrics are on."
        )
    for name, reason in services.failed.items():
        notes.append(f"{name}: {reason}")
    return notes


def run(options: Options) -> int:
    started = dt.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S") + (f"-{options.tag}" if options.tag else "")
    print(f"token pool: {options.tokens} RS256 tokens ...", flush=True)
    pool = make_pool(options.tokens, options.subjects)
    patched = not _transport_is_kept()
    measurements: list[report.Measurement] = []
    skipped: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="glassgate-bench-") as tmp,
        Supervisor(Path(tmp)) as sup,
    ):
        services = Services(
            sup,
            pool.jwks,
            pool.tokens[0],
            audit=not options.no_audit,
            log_level=options.log_level,
            access_log=not options.no_access_log,
            gc_tuned=options.gc_tuned,
            audit_sample_rate=options.audit_sample_rate,
        )
        script = write_script(Path(tmp) / "rotate.lua", pool.tokens, LOAD_PATHS)
        keys = []
        for key in options.scenarios:
            try:
                for name in (SCENARIOS[key].front, *SCENARIOS[key].cpu):
                    services.get(name)
                keys.append(key)
            except UnavailableError as exc:
                skipped[key] = str(exc).splitlines()[0]
                print(f"skipping {key}: {skipped[key]}", flush=True)
        if options.warmup > 0:
            for key in keys:
                front = services.get(SCENARIOS[key].front)
                url = f"http://127.0.0.1:{front.port}"
                run_wrk(url, script, options.warmup, options.connections)
        for index, order in enumerate(pass_orders(keys, options.passes, options.seed)):
            for position, key in enumerate(order):
                row = _quiet_measure(SCENARIOS[key], services, script, options, index, position)
                measurements.append(row)
        notes = _notes(options, services, patched)
    micro = {} if options.no_micro else run_micro(options.micro_seconds)
    labels = {key: SCENARIOS[key].label for key in options.scenarios}
    rows = report.summarise(measurements, labels, options.scenarios, skipped)
    meta = _meta(options, started.isoformat(timespec="seconds"))
    markdown = report.to_markdown(options.title, rows, micro, meta, notes)
    print()
    print(markdown)
    md, js = report.write(options.out, stamp, markdown, rows, micro, meta, notes)
    print(f"written: {md} and {js}")
    return 0


def _soak(options: Options) -> int:
    rows = [key for key in options.scenarios if SCENARIOS[key].glassgate] or ["glassgate"]
    return run_soak(
        options.soak,
        rows[0],
        slice_seconds=options.soak_slice,
        connections=options.connections,
        tokens=options.tokens,
        subjects=options.subjects,
        warmup=options.warmup,
        out=options.out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    begin = time.monotonic()
    try:
        code = _soak(options) if options.soak > 0 else run(options)
    except KeyboardInterrupt:
        print("interrupted; every server was stopped", file=sys.stderr)
        return 130
    print(f"total {time.monotonic() - begin:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
