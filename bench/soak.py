"""A long run of one glassgate row: does memory or the descriptor count grow under load?

    .venv/bin/python bench/run.py --soak 600                 # row 5, ten minutes
    .venv/bin/python bench/run.py --soak 600 --scenarios forward-auth

Issue 10's target: RSS under load <= 150 MB, growth under 5 % over a
ten-minute soak, and no descriptor growth. The services start as in a normal
run (wrk on the load core, servers on the server core); after the warm-up,
wrk drives the row continuously in slices (``--soak-slice``, 30 s), and after
each slice the gateway's processes are sampled: RSS (VmRSS, summed over the
process tree), open descriptors (``/proc/PID/fd``), and the slice's req/s
and p99. Growth compares the median of the first three slices with the median
of the last three, so one slice caught mid-collection neither hides nor fakes
a trend. Results go to ``bench/results/<stamp>-soak.md`` and ``.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.cpu import descendants, rss_bytes
from bench.gateway import LOAD_PATHS
from bench.procs import Supervisor
from bench.scenarios import SCENARIOS, Services
from bench.tokenpool import make_pool
from bench.wrk import run_wrk, write_script

__all__ = ["Slice", "SoakSummary", "open_fds", "run_soak", "summarise", "to_markdown"]

RSS_LIMIT_MB = 150.0
MAX_GROWTH = 0.05
_EDGE = 3  # slices whose median stands for the start and the end


@dataclass(frozen=True, slots=True)
class Slice:
    """One slice of load and the gateway's state right after it."""

    at_s: float
    rps: float
    p99_ms: float
    non_2xx: int
    rss_mb: float
    fds: int


@dataclass(frozen=True, slots=True)
class SoakSummary:
    slices: int
    seconds: float
    rss_start_mb: float
    rss_end_mb: float
    rss_max_mb: float
    rss_growth: float
    fds_start: float
    fds_end: float
    fds_max: int
    rps_first: float
    rps_last: float
    p99_first_ms: float
    p99_last_ms: float
    non_2xx: int
    rss_within_limit: bool
    rss_growth_ok: bool
    fds_steady: bool


def _edges(values: list[float]) -> tuple[float, float]:
    edge = max(1, min(_EDGE, len(values) // 2))
    return statistics.median(values[:edge]), statistics.median(values[-edge:])


def summarise(
    slices: list[Slice], *, limit_mb: float = RSS_LIMIT_MB, max_growth: float = MAX_GROWTH
) -> SoakSummary:
    """The soak's figures and verdicts (pure: the tests feed it made-up slices)."""
    if not slices:
        raise ValueError("a soak needs at least one slice")
    rss_start, rss_end = _edges([s.rss_mb for s in slices])
    fds_start, fds_end = _edges([float(s.fds) for s in slices])
    growth = (rss_end - rss_start) / rss_start if rss_start > 0 else 0.0
    rss_max = max(s.rss_mb for s in slices)
    return SoakSummary(
        slices=len(slices),
        seconds=slices[-1].at_s,
        rss_start_mb=rss_start,
        rss_end_mb=rss_end,
        rss_max_mb=rss_max,
        rss_growth=growth,
        fds_start=fds_start,
        fds_end=fds_end,
        fds_max=max(s.fds for s in slices),
        rps_first=slices[0].rps,
        rps_last=slices[-1].rps,
        p99_first_ms=slices[0].p99_ms,
        p99_last_ms=slices[-1].p99_ms,
        non_2xx=sum(s.non_2xx for s in slices),
        rss_within_limit=rss_max <= limit_mb,
        rss_growth_ok=growth < max_growth,
        fds_steady=fds_end <= fds_start,
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def to_markdown(label: str, summary: SoakSummary, slices: list[Slice], meta: dict[str, Any]) -> str:
    lines = [
        f"# Soak: {label}",
        "",
        f"{summary.slices} slices, {summary.seconds:.0f} s of load after the warm-up; "
        f"{meta['connections']} connections; started {meta['started']}.",
        "",
        "| figure | target | this run | |",
        "|---|---|---:|---|",
        f"| RSS, max over the soak | <= {RSS_LIMIT_MB:.0f} MB | {summary.rss_max_mb:.1f} MB "
        f"| {_verdict(summary.rss_within_limit)} |",
        f"| RSS growth (median of last 3 slices vs first 3) | < {MAX_GROWTH:.0%} "
        f"| {summary.rss_growth:+.1%} ({summary.rss_start_mb:.1f} -> {summary.rss_end_mb:.1f} MB) "
        f"| {_verdict(summary.rss_growth_ok)} |",
        f"| open descriptors (same medians) | no growth | {summary.fds_start:.0f} -> "
        f"{summary.fds_end:.0f} (max {summary.fds_max}) | {_verdict(summary.fds_steady)} |",
        f"| req/s, first and last slice | info | {summary.rps_first:,.0f} -> "
        f"{summary.rps_last:,.0f} | |",
        f"| p99, first and last slice | info | {summary.p99_first_ms:.1f} -> "
        f"{summary.p99_last_ms:.1f} ms | |",
        f"| non-2xx answers | 0 | {summary.non_2xx} | {_verdict(summary.non_2xx == 0)} |",
        "",
        "| at s | req/s | p99 ms | RSS MB | fds |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.at_s:.0f} | {s.rps:,.0f} | {s.p99_ms:.1f} | {s.rss_mb:.1f} | {s.fds} |"
        for s in slices
    ]
    return "\n".join(lines) + "\n"


def open_fds(roots: list[int]) -> int:
    """Open descriptors of the process trees under ``roots``."""
    total = 0
    for root in roots:
        for pid in descendants(root):
            try:
                total += sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
    return total


def run_soak(
    seconds: float,
    scenario_key: str,
    *,
    slice_seconds: float,
    connections: int,
    tokens: int,
    subjects: int,
    warmup: float,
    out: Path,
) -> int:
    scenario = SCENARIOS[scenario_key]
    if not scenario.glassgate:
        raise SystemExit(f"--soak measures a glassgate row, not {scenario_key!r}")
    started = dt.datetime.now().astimezone()
    pool = make_pool(tokens, subjects)
    slices: list[Slice] = []
    with (
        tempfile.TemporaryDirectory(prefix="glassgate-soak-") as tmp,
        Supervisor(Path(tmp)) as sup,
    ):
        services = Services(sup, pool.jwks, pool.tokens[0])
        script = write_script(Path(tmp) / "rotate.lua", pool.tokens, LOAD_PATHS)
        front = services.get(scenario.front)
        ours = [services.get(name).pid for name in scenario.cpu if name.startswith("glassgate")]
        url = f"http://127.0.0.1:{front.port}"
        if warmup > 0:
            run_wrk(url, script, warmup, connections)
        begin = time.monotonic()
        while (left := seconds - (time.monotonic() - begin)) > slice_seconds / 2:
            length = min(slice_seconds, left)
            result = run_wrk(url, script, length, connections)
            time.sleep(0.2)  # let the gateway see wrk's connections close
            row = Slice(
                at_s=time.monotonic() - begin,
                rps=result.rps,
                p99_ms=result.p99_ms,
                non_2xx=result.non_2xx,
                rss_mb=rss_bytes(ours) / 2**20,
                fds=open_fds(ours),
            )
            slices.append(row)
            print(
                f"{row.at_s:6.0f} s  {row.rps:>8,.0f} req/s  p99 {row.p99_ms:6.1f} ms  "
                f"RSS {row.rss_mb:6.1f} MB  fds {row.fds}",
                flush=True,
            )
    summary = summarise(slices)
    meta = {"started": started.isoformat(timespec="seconds"), "connections": connections}
    markdown = to_markdown(scenario.label, summary, slices, meta)
    out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S") + f"-soak-{scenario_key}"
    (out / f"{stamp}.md").write_text(markdown)
    document = {"meta": meta, "summary": asdict(summary), "slices": [asdict(s) for s in slices]}
    (out / f"{stamp}.json").write_text(json.dumps(document, indent=2))
    print()
    print(markdown)
    print(f"written: {out / stamp}.md and .json")
    return 0
