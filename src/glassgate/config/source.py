"""YAML text -> plain data plus the line of every field, with ``${VAR}`` expansion.

PyYAML's ``compose`` keeps each node's position, so every later problem can be
reported as ``file:line: routes[2].allow.groups[0]``. Expansion happens inside
scalar values only, after parsing, so an environment value can never inject
YAML structure. Duplicate keys, aliases that expand too far and non-string
keys are errors, not silent surprises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from glassgate.errors import ConfigTooLargeError, Problem

__all__ = ["Located", "Path", "format_path", "parse_yaml"]

Path = tuple[str | int, ...]

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MAX_NODES = 100_000
_MAX_DEPTH = 64


@dataclass
class Located:
    """Parsed data with the 1-based line of each path, and the problems met on the way."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def format_path(path: Path) -> str:
    """``("routes", 2, "allow", "groups", 0)`` -> ``routes[2].allow.groups[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


class _Builder:
    def __init__(self, filename: str, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.env = env
        self.result = Located(data=None)
        self.nodes = 0
        self._scalars = yaml.SafeLoader("")

    def problem(self, path: Path, line: int, message: str, hint: str = "") -> None:
        self.result.problems.append(
            Problem(format_path(path), message, hint, file=self.filename, line=line)
        )

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        self.result.lines.setdefault(path, line)
        if self.nodes > _MAX_NODES or depth > _MAX_DEPTH:
            raise ConfigTooLargeError(
                [
                    Problem(
                        "",
                        "the document is too large or too deeply nested",
                        file=self.filename,
                        line=line,
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.ScalarNode):
            self.problem(path, line, "unsupported YAML node")
            return None
        try:
            value = self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError:
            self.problem(path, line, f"unsupported YAML value or tag {node.tag!r}")
            return None
        if isinstance(value, str):
            return self._expand(value, path, line)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag == "tag:yaml.org,2002:merge":
                self.problem(path, line, "keys must be plain strings (no merge keys)")
                continue
            if key in out:
                self.problem((*path, key), line, f"duplicate key '{key}'", "remove one of them")
                continue
            self.result.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out

    def _expand(self, text: str, path: Path, line: int) -> str:
        if "$" not in text:
            return text

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            value = self.env.get(name)
            if value:
                return value
            if default is not None:
                return default
            self.problem(
                path,
                line,
                f"environment variable {name} is not set",
                f"export {name}=..., or give a default as ${{{name}:-value}}",
            )
            return ""

        return _VAR.sub(substitute, text)


def parse_yaml(text: str, filename: str, env: Mapping[str, str]) -> Located:
    """Parse one YAML document; problems are collected, never raised."""
    builder = _Builder(filename, env)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {exc.problem or exc}"
        builder.result.problems.append(Problem("", message, "", file=filename, line=line))
        return builder.result
    except yaml.YAMLError as exc:
        builder.result.problems.append(Problem("", f"not valid YAML: {exc}", file=filename))
        return builder.result
    except RecursionError:
        message = "the document is nested too deeply"
        builder.result.problems.append(Problem("", message, file=filename))
        return builder.result
    if node is None:
        builder.result.data = {}
        return builder.result
    try:
        builder.result.data = builder.build(node, (), 0)
    except ConfigTooLargeError as exc:
        builder.result.problems.extend(exc.problems)
        builder.result.data = None
    return builder.result
