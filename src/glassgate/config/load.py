"""Load the configuration: read, expand, validate, cross-check, compile, or explain why not.

Every problem is collected with its file, line and field path; nothing is
half-loaded. The result is frozen; a reload builds a new one and swaps it.
"""

from __future__ import annotations

import difflib
import os
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from glassgate.config.audit import checkpoint_paths
from glassgate.config.breakglass_compile import check_breakglass
from glassgate.config.checks import Finding, check_config
from glassgate.config.compile import CompiledConfig, compile_config
from glassgate.config.risks import config_risks
from glassgate.config.schema import Config
from glassgate.config.source import Located, Path, format_path, parse_yaml
from glassgate.errors import ConfigError, Problem

__all__ = ["MAX_CONFIG_BYTES", "LoadedConfig", "load_config", "load_config_text"]

MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated, compiled configuration and where it came from."""

    source: str
    config: Config
    compiled: CompiledConfig
    warnings: tuple[Problem, ...] = ()  # risky but allowed (``config.risks``): print or log them


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and load a config file; raises ConfigError listing every problem."""
    filename = os.fspath(path)
    try:
        raw = FilePath(filename).read_bytes()
    except OSError as exc:
        raise ConfigError(
            [Problem("", f"cannot read the file: {exc.strerror}", file=filename)]
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([Problem("", "the file is larger than 4 MiB", file=filename)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Problem("", "the file is not valid UTF-8", file=filename)]) from None
    return load_config_text(text, filename, os.environ if env is None else env)


def load_config_text(text: str, filename: str, env: Mapping[str, str]) -> LoadedConfig:
    located = parse_yaml(text, filename, env)
    if not isinstance(located.data, dict):
        if located.problems:
            raise ConfigError(located.problems)
        raise ConfigError(
            [Problem("", "the file must hold a mapping at the top", file=filename, line=1)]
        )
    early = list(located.problems)
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(early + _schema_problems(exc, located, filename)) from None
    problems, compiled = _check_and_compile(config, located, filename, env)
    if early or problems or compiled is None:
        raise ConfigError(early + problems)
    warnings = tuple(_locate(config_risks(config), located, filename))
    config = _with_checkpoint_paths(config, filename)
    return LoadedConfig(source=filename, config=config, compiled=compiled, warnings=warnings)


def _with_checkpoint_paths(config: Config, filename: str) -> Config:
    """The config with the audit checkpoint key and file placed (``config.audit``)."""
    storage = config.storage
    sqlite = storage.sqlite.path if storage.backend == "sqlite" else None
    key_file, file = checkpoint_paths(config.audit.checkpoint, sqlite, filename)
    checkpoint = config.audit.checkpoint.model_copy(update={"key_file": key_file, "file": file})
    audit = config.audit.model_copy(update={"checkpoint": checkpoint})
    return config.model_copy(update={"audit": audit})


def _check_and_compile(
    config: Config, located: Located, filename: str, env: Mapping[str, str]
) -> tuple[list[Problem], CompiledConfig | None]:
    """``env`` is where sealed break-glass credentials named by ``env:`` are read from."""
    findings = [*check_config(config), *check_breakglass(config.breakglass, config, env)]
    located_problems = list(_locate(findings, located, filename))
    if located_problems:
        return located_problems, None
    return [], compile_config(config, env)


def _locate(findings: Iterable[Finding], located: Located, filename: str) -> Iterator[Problem]:
    for path, message, hint in findings:
        yield Problem(format_path(path), message, hint, file=filename, line=located.line_of(path))


_FIELD_HINTS = {
    "audiences": "audience binding is mandatory: list the audience your API expects",
    "algorithms": "only RS256, PS256, ES256 and EdDSA; never none or HMAC",
}


def _field_name(path: Path) -> str:
    names = [part for part in path if isinstance(part, str)]
    return names[-1] if names else ""


def _schema_problems(exc: ValidationError, located: Located, filename: str) -> list[Problem]:
    errors = exc.errors(include_input=False, include_url=False)
    failed = [tuple(e["loc"]) for e in errors]

    def items_failed(path: Path) -> bool:
        n = len(path)
        return any(len(p) > n and p[:n] == path and isinstance(p[n], int) for p in failed)

    problems = []
    for error in errors:
        path: Path = tuple(error["loc"])
        if error["type"] == "too_short" and items_failed(path):
            continue  # the items themselves were reported; the count follows from them
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = _FIELD_HINTS.get(_field_name(path), "")
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{path[-1]}'"
            hint = _did_you_mean(path)
        elif error["type"] == "missing":
            message = f"'{path[-1]}' is required"
        problems.append(
            Problem(format_path(path), message, hint, file=filename, line=located.line_of(path))
        )
    return problems


def _did_you_mean(path: Path) -> str:
    model = _model_at(Config, path[:-1])
    if model is None:
        return ""
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "known keys here: " + ", ".join(known)


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(part, int):
            args = get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field is not None else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Drop ``X | None`` to ``X``."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return annotation
