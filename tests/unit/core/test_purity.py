"""core is pure: importing it pulls in no I/O machinery, and no core module reads the clock.

ARCHITECTURE 8.4 habit 2: time is passed in; only ``adapters/clock.py`` reads it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import glassgate.core

FORBIDDEN_MODULES = (
    "socket",
    "ssl",
    "asyncio",
    "selectors",
    "httpx",
    "sqlite3",
    "starlette",
    "sqlalchemy",
    "redis",
    "logging",
)

CORE_DIR = Path(glassgate.core.__file__).parent
CORE_FILES = sorted(CORE_DIR.rglob("*.py"))

_IMPORT_ALL_OF_CORE = """
import importlib, json, pkgutil, sys, types
if {stub_cel}:
    fake = types.ModuleType("cel")
    fake.compile = lambda source: None
    sys.modules["cel"] = fake
import glassgate.core
names = [m.name for m in pkgutil.walk_packages(glassgate.core.__path__, "glassgate.core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({{"imported": names, "modules": sorted(sys.modules)}}))
"""


def _modules_after_importing_core(*, stub_cel: bool) -> tuple[list[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL_OF_CORE.format(stub_cel=stub_cel)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    return report["imported"], set(report["modules"])


def _forbidden(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in FORBIDDEN_MODULES)


def test_core_and_all_submodules_import_no_io_modules() -> None:
    # The CEL binding is stubbed so that this pins glassgate's own imports;
    # see the xfail below for what the real binding drags in.
    imported, modules = _modules_after_importing_core(stub_cel=True)
    assert len(imported) == len(CORE_FILES) - 1  # every module but core/__init__.py
    assert _forbidden(modules) == []


def test_core_with_the_real_cel_binding_imports_no_io_modules() -> None:
    _, modules = _modules_after_importing_core(stub_cel=False)
    assert _forbidden(modules) == []


# --- no clock reads ----------------------------------------------------------------------------

_CLOCK_ATTRIBUTES = frozenset(
    {"now", "utcnow", "today", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter"}
)
_CLOCK_MODULES = frozenset({"time", "datetime", "date"})


def clock_reads(source: str) -> list[str]:
    """Every clock read or clock import in ``source``, as ``line: text``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name == "time"]
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found.append(f"{node.lineno}: from time import ...")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _CLOCK_ATTRIBUTES
        ):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if name in _CLOCK_MODULES or node.func.attr in {"now", "utcnow", "today"}:
                found.append(f"{node.lineno}: {name}.{node.func.attr}()")
    return found


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=f"module={p.relative_to(CORE_DIR)}") for p in CORE_FILES]
)
def test_no_core_module_reads_the_clock(path: Path) -> None:
    assert clock_reads(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "snippet",
    [
        pytest.param("import time\nx = time.time()", id="case=time.time"),
        pytest.param("from time import monotonic", id="case=from-time"),
        pytest.param("from datetime import datetime\nx = datetime.now()", id="case=datetime.now"),
        pytest.param("import datetime\nx = datetime.datetime.utcnow()", id="case=utcnow"),
        pytest.param("from datetime import date\nx = date.today()", id="case=date.today"),
    ],
)
def test_clock_detector_finds_clock_reads(snippet: str) -> None:
    assert clock_reads(snippet) != []


def test_clock_detector_allows_time_passed_in() -> None:
    source = (
        "from datetime import datetime\ndef f(ctx):\n    return datetime.fromtimestamp(ctx.now)\n"
    )
    assert clock_reads(source) == []
