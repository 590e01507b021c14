"""Per-pass measurements -> medians, same-pass ratios, issue-5 targets, Markdown and JSON."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.stages import table as stage_table

__all__ = ["Measurement", "Summary", "summarise", "targets", "to_markdown", "write"]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One scenario in one pass."""

    scenario: str
    pass_index: int
    order: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int
    server_us: float  # CPU per request of the scenario's servers, upstream excluded
    upstream_us: float  # CPU per request of the upstream nginx
    core_busy: float  # share of the server core used by all server processes
    rss_mb: float
    foreign: float  # CPU used by anything else on the machine, in cores (should be ~0)


@dataclass
class Summary:
    scenario: str
    label: str
    passes: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    server_us: float
    upstream_us: float
    core_busy: float
    rss_mb_max: float
    foreign_median: float
    foreign_max: float
    vs_nginx: float | None
    vs_caddy: float | None
    p99_vs_caddy: float | None
    skipped: str | None = None
    raw: list[dict[str, Any]] = field(default_factory=list)


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _ratios(
    rows: Sequence[Measurement], by_pass: Mapping[tuple[str, int], Measurement], ref: str
) -> tuple[float | None, float | None]:
    """Median over passes of (this row / ``ref`` in the same pass): rps and p99."""
    rps, p99 = [], []
    for row in rows:
        other = by_pass.get((ref, row.pass_index))
        if other is not None and other.rps > 0:
            rps.append(row.rps / other.rps)
            if other.p99_ms > 0:
                p99.append(row.p99_ms / other.p99_ms)
    return (_median(rps) if rps else None), (_median(p99) if p99 else None)


def _skipped(key: str, label: str, reason: str) -> Summary:
    nan = float("nan")
    return Summary(
        scenario=key,
        label=label,
        passes=0,
        rps=nan,
        p50_ms=nan,
        p99_ms=nan,
        non_2xx=0,
        socket_errors=0,
        server_us=nan,
        upstream_us=nan,
        core_busy=nan,
        rss_mb_max=nan,
        foreign_median=nan,
        foreign_max=nan,
        vs_nginx=None,
        vs_caddy=None,
        p99_vs_caddy=None,
        skipped=reason,
    )


def summarise(
    measurements: Sequence[Measurement],
    labels: Mapping[str, str],
    order: Sequence[str],
    skipped: Mapping[str, str],
) -> list[Summary]:
    by_pass = {(m.scenario, m.pass_index): m for m in measurements}
    out = []
    for key in order:
        rows = [m for m in measurements if m.scenario == key]
        if not rows:
            reason = skipped.get(key, "not measured")
            out.append(_skipped(key, labels[key], reason))
            continue
        vs_nginx, _ = _ratios(rows, by_pass, "nginx")
        vs_caddy, p99_vs_caddy = _ratios(rows, by_pass, "caddy")
        out.append(
            Summary(
                scenario=key,
                label=labels[key],
                passes=len(rows),
                rps=_median([r.rps for r in rows]),
                p50_ms=_median([r.p50_ms for r in rows]),
                p99_ms=_median([r.p99_ms for r in rows]),
                non_2xx=sum(r.non_2xx for r in rows),
                socket_errors=sum(r.socket_errors for r in rows),
                server_us=_median([r.server_us for r in rows]),
                upstream_us=_median([r.upstream_us for r in rows]),
                core_busy=_median([r.core_busy for r in rows]),
                rss_mb_max=max(r.rss_mb for r in rows),
                foreign_median=_median([r.foreign for r in rows]),
                foreign_max=max(r.foreign for r in rows),
                vs_nginx=vs_nginx,
                vs_caddy=vs_caddy,
                p99_vs_caddy=p99_vs_caddy,
                raw=[asdict(r) for r in rows],
            )
        )
    return out


def verifier_rate(rates: Mapping[str, float], alg: str, kind: str) -> float | None:
    """The glassgate verifier's rate among bench_tokens.py's lines (not a reference line)."""
    found = [
        (name, rate)
        for name, rate in rates.items()
        if alg in name and kind in name and "reference" not in name and "alone" not in name
    ]
    return found[0][1] if found else None


def _fmt(value: float | None, spec: str) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return format(value, spec)


def table(rows: Sequence[Summary]) -> str:
    head = (
        "| scenario | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | upstream µs/req "
        "| server core busy | x nginx | x Caddy | p99 x Caddy | RSS MB | other load med/max |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        if r.skipped:
            lines.append(f"| {r.label} | skipped: {r.skipped} ||||||||||||")
            continue
        errors = f"{r.non_2xx}" + (f" (+{r.socket_errors} socket)" if r.socket_errors else "")
        lines.append(
            f"| {r.label} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {errors} "
            f"| {r.server_us:.1f} | {r.upstream_us:.1f} | {r.core_busy:.0%} "
            f"| {_fmt(r.vs_nginx, '.2f')} | {_fmt(r.vs_caddy, '.2f')} "
            f"| {_fmt(r.p99_vs_caddy, '.2f')} | {r.rss_mb_max:.0f} "
            f"| {r.foreign_median:.2f}/{r.foreign_max:.2f} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[Summary], micro: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue-5 targets that one run can check (the soak is not part of it)."""
    by = {r.scenario: r for r in rows if not r.skipped}
    out: list[dict[str, Any]] = []

    def add(figure: str, target: str, value: float | None, ok: bool | None) -> None:
        out.append({"figure": figure, "target": target, "value": value, "met": ok})

    gg, fa, traefik = by.get("glassgate"), by.get("forward-auth"), by.get("traefik")
    if gg is not None:
        above_traefik = traefik is None or gg.rps >= traefik.rps
        add(
            "proxy mode vs nginx (and >= Traefik)",
            ">= 0.50x",
            gg.vs_nginx,
            gg.vs_nginx is not None and gg.vs_nginx >= 0.5 and above_traefik,
        )
        add("proxy mode vs Caddy", "about 1.8x", gg.vs_caddy, None)
        add("server CPU per proxied request", "<= 75 µs", gg.server_us, gg.server_us <= 75)
        add(
            "p99 at 64 connections vs Caddy's",
            "<= 1.00x",
            gg.p99_vs_caddy,
            gg.p99_vs_caddy is not None and gg.p99_vs_caddy <= 1.0,
        )
        add("RSS under load", "<= 150 MB", gg.rss_mb_max, gg.rss_mb_max <= 150)
    if fa is not None:
        add(
            "nginx -> forward-auth vs nginx proxy",
            ">= 0.50x",
            fa.vs_nginx,
            fa.vs_nginx is not None and fa.vs_nginx >= 0.5,
        )
    rs256 = verifier_rate(micro.get("tokens", {}), "RS256", "uncached")
    if rs256 is not None:
        add("uncached RS256 verifications/s, one core", ">= 20,000", rs256, rs256 >= 20_000)
    decisions = micro.get("decisions_per_second")
    if decisions is not None:
        add("decisions/s, pure core", ">= 200,000", decisions, decisions >= 200_000)
    return out


def to_markdown(
    title: str,
    rows: Sequence[Summary],
    micro: Mapping[str, Any],
    meta: Mapping[str, Any],
    notes: Sequence[str],
) -> str:
    parts = [f"# {title}", ""]
    parts.append(
        f"{meta.get('passes')} passes x {meta.get('duration')} s per scenario, "
        f"{meta.get('connections')} connections, wrk on CPU {meta.get('load_cpu')}, "
        f"servers on CPU {meta.get('server_cpu')}; medians over passes, ratios taken "
        "within each pass. Started " + str(meta.get("started")) + "."
    )
    parts += ["", table(rows), ""]
    marks = {True: "met", False: "MISSED", None: "info"}
    checked = targets(rows, micro)
    if checked:
        parts += ["## Issue-5 targets", "", "| figure | target | this run | |"]
        parts.append("|---|---|---:|---|")
        for t in checked:
            value = t["value"]
            shown = "-" if value is None else (f"{value:,.2f}" if value < 100 else f"{value:,.0f}")
            parts.append(f"| {t['figure']} | {t['target']} | {shown} | {marks[t['met']]} |")
        parts.append("")
    if micro:
        parts += ["## Micro-benchmarks (one core)", ""]
        decisions = micro.get("decisions_per_second")
        if decisions is not None:
            parts.append(f"- pure core `decide()`, verified principal: {decisions:,.0f}/s")
        for name, rate in micro.get("tokens", {}).items():
            parts.append(f"- token verification {name}: {rate:,.0f}/s")
        if micro.get("audit_lines"):
            parts += ["- audit append rate (bench/bench_audit.py, as printed):", "", "```"]
            parts += [*micro["audit_lines"], "```", ""]
        if micro.get("stages"):
            parts += ["", "### Stage budget (bench/stages.py, CPU µs per request)", ""]
            parts += [stage_table(micro["stages"]), ""]
        for problem in micro.get("problems", []):
            parts.append(f"- not measured: {problem}")
        parts.append("")
    if notes:
        parts += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    parts += ["## Environment", ""] + [f"- {k}: {v}" for k, v in meta.items()] + [""]
    return "\n".join(parts)


def write(
    directory: Path,
    stamp: str,
    markdown: str,
    rows: Sequence[Summary],
    micro: Mapping[str, Any],
    meta: Mapping[str, Any],
    notes: Sequence[str],
) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md = directory / f"{stamp}.md"
    md.write_text(markdown)
    data = {
        "meta": dict(meta),
        "notes": list(notes),
        "rows": [asdict(r) for r in rows],
        "targets": targets(rows, micro),
        "micro": dict(micro),
    }
    js = directory / f"{stamp}.json"
    js.write_text(json.dumps(data, indent=2, default=str, allow_nan=True))
    return md, js
