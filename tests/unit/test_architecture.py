"""Import rules that keep the layers honest (ARCHITECTURE.md 8.1), checked on the source."""

from __future__ import annotations

import ast
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
        for package in ("tokens", "audit", "config")
        for path in _modules(package)
        if any(name.startswith("glassgate.adapters") for name in _imports(path))
    ]
    assert offenders == []
