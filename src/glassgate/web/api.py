"""The console's JSON API as an explicit, typed registry of operations.

An ``Operation`` names its method, path, response model per status and, for
writes, its request model. ``starlette_routes`` serves the registry and
``openapi.openapi_document`` describes it, from the same objects, so what the
document says is what is served. A handler receives the request and the
validated body and returns a ``Reply``; it never builds a response by hand,
and a reply the operation does not declare is a bug (500), never sent.

Request bodies are JSON only (415 otherwise), at most ``MAX_BODY_BYTES``
(413), and a body that does not validate is 422 with every problem's location
and message; the input itself is never echoed back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = [
    "MAX_BODY_BYTES",
    "ErrorBody",
    "Handler",
    "Operation",
    "Problem",
    "Reply",
    "json_response",
    "starlette_routes",
]

MAX_BODY_BYTES = 64 * 1024
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: a declared status and its model."""

    status: int
    body: BaseModel


Handler = Callable[[Request, BaseModel | None], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation; ``responses`` maps each status it may answer to its model."""

    operation_id: str
    method: Method
    path: str
    summary: str
    responses: Mapping[int, type[BaseModel]]
    handler: Handler
    request: type[BaseModel] | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/api/"):
            raise ValueError(f"operation {self.operation_id}: API paths start with /api/")
        if not self.responses:
            raise ValueError(f"operation {self.operation_id}: declare at least one response")


class Problem(BaseModel):
    location: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers: a stable ``error`` code, and problems for a 422."""

    error: str
    problems: list[Problem] = []


def json_response(status: int, body: BaseModel) -> Response:
    return Response(body.model_dump_json(), status, media_type="application/json")


def starlette_routes(operations: Sequence[Operation]) -> list[Route]:
    return [
        Route(op.path, _endpoint(op), methods=[op.method], name=op.operation_id)
        for op in operations
    ]


def _endpoint(operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body: BaseModel | None = None
        if operation.request is not None:
            parsed = await _parse_body(request, operation.request)
            if isinstance(parsed, Response):
                return parsed
            body = parsed
        reply = await operation.handler(request, body)
        declared = operation.responses.get(reply.status)
        if declared is None or not isinstance(reply.body, declared):
            raise TypeError(
                f"operation {operation.operation_id} answered {reply.status} "
                f"{type(reply.body).__name__}, which it does not declare"
            )
        return json_response(reply.status, reply.body)

    return endpoint


async def _parse_body(request: Request, model: type[BaseModel]) -> BaseModel | Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return json_response(415, ErrorBody(error="unsupported_media_type"))
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return json_response(413, ErrorBody(error="payload_too_large"))
    try:
        return model.model_validate_json(bytes(raw))
    except ValidationError as exc:
        problems = [
            Problem(location=".".join(str(part) for part in error["loc"]), message=error["msg"])
            for error in exc.errors(include_input=False, include_url=False)
        ]
        return json_response(422, ErrorBody(error="invalid_request", problems=problems))
