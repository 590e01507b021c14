"""wrk as the load generator: one thread on its own core, a rotating-token script.

Every scenario gets the same Lua script, so every server sees the same bytes:
``Authorization: Bearer <token>`` rotating over the token pool and a path
rotating over a short list. Plain proxies forward the header untouched.
The script's ``done`` hook prints one JSON line with exact percentiles and
error counts, which is parsed instead of wrk's human summary.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procs import LOAD_CPU, pinned

__all__ = ["WrkResult", "run_wrk", "write_script"]

_MARK = "WRKJSON "

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\\n',
    "MARK", summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int  # wrk counts status >= 400 ("Non-2xx or 3xx responses")
    socket_errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_script(path: Path, tokens: Sequence[str], paths: Sequence[str]) -> Path:
    """A wrk script rotating ``tokens`` (Bearer) and ``paths``; tokens may be empty."""
    lines = ["local tokens = {"]
    lines.extend(f"  {_lua_string(token)}," for token in tokens)
    lines.append("}")
    lines.append("local paths = {" + ", ".join(_lua_string(p) for p in paths) + "}")
    lines.append(
        """
local nt, np, i = #tokens, #paths, 0
local headers = {}
request = function()
  i = i + 1
  if nt > 0 then headers["Authorization"] = "Bearer " .. tokens[(i % nt) + 1] end
  return wrk.format("GET", paths[(i % np) + 1], headers)
end
"""
    )
    lines.append(_DONE.replace("MARK", _MARK))
    path.write_text("\n".join(lines))
    return path


def run_wrk(
    url: str, script: Path, duration: float, connections: int, timeout_s: float = 5.0
) -> WrkResult:
    """One bounded wrk run; raises if wrk fails or prints no summary."""
    seconds = max(1, round(duration))
    argv = pinned(
        LOAD_CPU,
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_s:.0f}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
    )
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith(_MARK):
            return _parse(json.loads(line[len(_MARK) :]))
    raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")


def _parse(raw: dict[str, float]) -> WrkResult:
    seconds = raw["duration_us"] / 1e6
    socket_errors = int(raw["connect"] + raw["read"] + raw["write"] + raw["timeout"])
    return WrkResult(
        requests=int(raw["requests"]),
        seconds=seconds,
        rps=raw["requests"] / seconds if seconds > 0 else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        non_2xx=int(raw["status"]),
        socket_errors=socket_errors,
    )
