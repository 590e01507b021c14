"""Frozen dataclasses <-> plain JSON documents, for ``WorkflowStore`` records.

One reflective codec instead of one hand-written pair per record type: it
reads the field types (str, int, float, bool, bytes, StrEnum, tuples,
frozensets, ``X | None``, nested dataclasses) and converts accordingly. Bytes
travel as base64url. ``decode`` refuses a document that does not fit the
type (``ValueError``), so a row edited by hand is noticed, never guessed at.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = ["decode", "encode"]

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (a dataclass instance, usually)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.urlsafe_b64encode(value).decode("ascii")
    if isinstance(value, frozenset):
        return sorted(encode(item) for item in value)
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def decode(cls: type[T], document: Any) -> T:
    """``document`` read back as a ``cls``; ``ValueError`` if it does not fit."""
    try:
        return typing.cast(T, _decode(cls, document))
    except (TypeError, KeyError, AttributeError, UnicodeError) as exc:  # missing fields, ...
        raise ValueError(f"not a stored {cls.__name__}: {exc}") from None


def _decode(annotation: Any, value: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if len(options) != 1 or len(get_args(annotation)) != 2:
            raise ValueError(f"cannot decode {annotation!r}: only 'X | None' unions")
        return None if value is None else _decode(options[0], value)
    if origin is tuple:
        args = get_args(annotation)
        _need(value, list)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        if len(args) != len(value):
            raise ValueError("tuple of the wrong length")
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if origin is frozenset:
        _need(value, list)
        return frozenset(_decode(get_args(annotation)[0], item) for item in value)
    if isinstance(annotation, type):
        return _decode_plain(annotation, value)
    raise ValueError(f"cannot decode {annotation!r}")


def _decode_plain(cls: type, value: Any) -> Any:
    if dataclasses.is_dataclass(cls):
        _need(value, dict)
        hints = _hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        if not set(value) <= names:
            raise ValueError(f"unexpected fields for {cls.__name__}")
        return cls(**{name: _decode(hints[name], item) for name, item in value.items()})
    if issubclass(cls, Enum):
        return cls(value)
    if cls is bytes:
        _need(value, str)
        return base64.urlsafe_b64decode(value.encode("ascii"))
    if cls is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("not a number")
        return float(value)
    if cls is bool or cls is int or cls is str:
        if type(value) is not cls:
            raise ValueError(f"not a {cls.__name__}")
        return value
    raise ValueError(f"cannot decode {cls.__name__}")


def _need(value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise ValueError(f"expected a {kind.__name__}")
