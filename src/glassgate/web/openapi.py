"""The OpenAPI 3.1 document of the console API, generated from the operation registry.

Schemas come from pydantic (``models_json_schema``): JSON Schema 2020-12, the
dialect OpenAPI 3.1 uses natively, so they are embedded as they are, under
``components/schemas``. Built once, when the console app is built. Why this
and not a framework: docs/decisions/console-api.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from glassgate.web.api import ErrorBody, Operation

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
_Key = tuple[type[BaseModel], JsonSchemaMode]


def openapi_document(
    operations: Sequence[Operation], *, title: str, version: str
) -> dict[str, Any]:
    keys = _schema_keys(operations)
    refs, definitions = models_json_schema(keys, ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }


def _schema_keys(operations: Sequence[Operation]) -> list[_Key]:
    keys: dict[_Key, None] = {}  # ordered and unique: the document is stable
    serialization: Literal["serialization"] = "serialization"
    validation: Literal["validation"] = "validation"
    for op in operations:
        for model in op.responses.values():
            keys[(model, serialization)] = None
        if op.request is not None:
            keys[(op.request, validation)] = None
        if _refusals(op):
            keys[(ErrorBody, serialization)] = None
    return list(keys)


def _refusals(op: Operation) -> list[int]:
    """What it may refuse with besides its own: a bad body (413, 415, 422), CSRF (403)."""
    writes = [403, 413, 415, 422] if op.request is not None else []
    return sorted(set(op.errors) | set(writes))


def _operation(op: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "responses": {
            str(status): {
                "description": HTTPStatus(status).phrase,
                "content": {"application/json": {"schema": refs[(model, "serialization")]}},
            }
            for status, model in sorted(
                {**dict.fromkeys(_refusals(op), ErrorBody), **op.responses}.items()
            )
        },
    }
    names = _PATH_PARAMETER.findall(op.path)
    if names:
        described["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names
        ]
    if op.request is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
        }
    return described
