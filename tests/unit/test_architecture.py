"""Import rules that keep the layers honest (ARCHITECTURE.md 8.1), checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "glassgate"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py")) if package else sorted(SRC.rglob("*.py"))


def test_only_tokens_touches_jose() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in _modules("")
        if "tokens" not in path.relative_to(SRC).parts
        and any(name.split(".")[0] == "joserfc" for name in _imports(path))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "forbidden",
    [
        "glassgate.adapters",
        "glassgate.config",
        "glassgate.app",
        "glassgate.cli",
        "glassgate.tokens",
    ],
)
def test_core_depends_on_nothing_outside_it(forbidden: str) -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in _modules("core")
        if any(name == forbidden or name.startswith(forbidden + ".") for name in _imports(path))
    ]
    assert offenders == []


def test_domain_packages_do_not_reach_into_adapters() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for package in ("tokens", "audit", "config", "workflows")
        for path in _modules(package)
        if any(name.startswith("glassgate.adapters") for name in _imports(path))
    ]
    assert offenders == []


def test_no_adapter_imports_the_composition_root() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in _modules("adapters")
        if any(
            name == "glassgate.app" or name.startswith("glassgate.app.") for name in _imports(path)
        )
    ]
    assert offenders == []


def _defines_protocol(path: Path) -> list[str]:
    """Classes that subclass ``typing.Protocol`` (``asyncio.Protocol`` is a transport base)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id == "Protocol":
                    found.append(node.name)
    return found


def test_every_protocol_lives_in_ports() -> None:
    offenders = {
        str(path.relative_to(SRC)): names
        for path in _modules("")
        if path.name != "ports.py" and (names := _defines_protocol(path))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("construction", "home"),
    [
        pytest.param("AuditLog(", "app/compose.py", id="case=audit-log"),
        pytest.param("uvicorn.Config(", "app/server.py", id="case=server-config"),
    ],
)
def test_one_place_constructs(construction: str, home: str) -> None:
    places = [
        str(path.relative_to(SRC))
        for path in _modules("")
        if construction in path.read_text(encoding="utf-8")
    ]
    assert places == [home]


def test_the_console_never_reaches_storage_or_the_root() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in _modules("web")
        if any(
            name.startswith(("glassgate.adapters.storage", "glassgate.app"))
            for name in _imports(path)
        )
    ]
    assert offenders == []


def test_a_gateway_without_console_or_postgres_does_not_load_their_stacks() -> None:
    """The composition root leaves psycopg and the console's web stack unloaded until a
    PostgreSQL target or ``console.enabled`` asks for them (issue 10: RSS under 150 MB)."""
    probe = (
        "import sys, glassgate.cli.serve, glassgate.app.compose; "
        "print(sorted(m for m in ('psycopg', 'starlette', 'jinja2', 'scim2_models', 'alembic') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
