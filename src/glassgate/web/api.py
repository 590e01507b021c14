"""The console's JSON API as an explicit, typed registry of operations.

An ``Operation`` names its method, path, response model per status and, for
writes, its request model. ``starlette_routes`` serves the registry and
``openapi.openapi_document`` describes it, from the same objects, so what the
document says is what is served. A handler receives the request and the
validated body and returns a ``Reply``; it never builds a response by hand,
and a reply the operation does not declare is a bug (500), never sent.

Request bodies are JSON only (415 otherwise), at most ``MAX_BODY_BYTES``
(413), and a body that does not validate is 422 with every problem's location
and message; the input itself is never echoed back. A handler that raises a
glassgate error carrying a ``status`` (a refusal) answers ``ErrorBody`` with
that status, its ``code`` and its message (``Retry-After`` when it has one);
an audit log or sink that cannot be reached is 503; any other exception is a
bug (500).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from glassgate.adapters.http.outbound import step_up_challenge
from glassgate.core.decision import Challenge
from glassgate.errors import (
    AuditUnavailableError,
    BackendError,
    GlassgateError,
    StepUpRequiredError,
)

__all__ = [
    "MAX_BODY_BYTES",
    "UNAVAILABLE",
    "ErrorBody",
    "Handler",
    "Method",
    "Operation",
    "Problem",
    "Reply",
    "error_json",
    "json_response",
    "operation",
    "refusal_status",
    "starlette_routes",
]

MAX_BODY_BYTES = 64 * 1024
UNAVAILABLE = (
    "a service the console needs (the audit log, an alert sink, the store) is unavailable; "
    "nothing was changed: try again shortly"
)
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: a declared status and its model."""

    status: int
    body: BaseModel
    cookies: tuple[str, ...] = ()  # ``Set-Cookie`` values (a session the browser keeps)


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
    errors: tuple[int, ...] = ()  # refusals it may answer (ErrorBody), besides 413/415/422

    def __post_init__(self) -> None:
        if not self.path.startswith("/api/"):
            raise ValueError(f"operation {self.operation_id}: API paths start with /api/")
        if not self.responses:
            raise ValueError(f"operation {self.operation_id}: declare at least one response")


def operation(
    op_id: str,
    method: Method,
    path: str,
    summary: str,
    ok: tuple[int, type[BaseModel]],
    handler: Handler,
    request: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
) -> Operation:
    """An operation with one success answer ``ok`` (status, model): the usual shape."""
    return Operation(op_id, method, path, summary, {ok[0]: ok[1]}, handler, request, errors)


class Problem(BaseModel):
    location: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers: a stable ``error`` code, a sentence a person can act on,
    and the problems of a 422."""

    error: str
    message: str = ""
    problems: list[Problem] = []


def json_response(status: int, body: BaseModel) -> Response:
    return Response(body.model_dump_json(), status, media_type="application/json")


def refusal_status(exc: GlassgateError) -> int | None:
    """The status to answer ``exc`` with, or None when it is not a refusal (a bug: 500)."""
    if isinstance(exc, AuditUnavailableError | BackendError):
        return 503
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def error_json(status: int, code: str, message: str, retry_after: int | None = None) -> Response:
    response = json_response(status, ErrorBody(error=code, message=message))
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


def _refusal(exc: GlassgateError) -> Response | None:
    status = refusal_status(exc)
    if status is None:
        return None
    message = UNAVAILABLE if status == 503 else str(exc)
    response = error_json(status, exc.code, message, getattr(exc, "retry_after", None))
    challenge = _challenge(exc)
    if challenge is not None:
        response.headers["www-authenticate"] = challenge
    return response


def _challenge(exc: GlassgateError) -> str | None:
    """``WWW-Authenticate`` of a bearer refusal: RFC 9470 step-up, or the error's own."""
    if isinstance(exc, StepUpRequiredError):
        return step_up_challenge(Challenge(exc.acr_values, exc.max_age)).decode()
    value = getattr(exc, "www_authenticate", None)
    return value if isinstance(value, str) else None


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
        try:
            reply = await operation.handler(request, body)
        except GlassgateError as exc:
            refused = _refusal(exc)
            if refused is None:
                raise
            return refused
        declared = operation.responses.get(reply.status)
        if declared is None or not isinstance(reply.body, declared):
            raise TypeError(
                f"operation {operation.operation_id} answered {reply.status} "
                f"{type(reply.body).__name__}, which it does not declare"
            )
        response = json_response(reply.status, reply.body)
        for cookie in reply.cookies:
            response.headers.append("set-cookie", cookie)
        return response

    return endpoint


async def _parse_body(request: Request, model: type[BaseModel]) -> BaseModel | Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return json_response(
            415, ErrorBody(error="unsupported_media_type", message="send application/json")
        )
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return json_response(
                413, ErrorBody(error="payload_too_large", message="the body is too large")
            )
    try:
        return model.model_validate_json(bytes(raw))
    except ValidationError as exc:
        problems = [
            Problem(location=".".join(str(part) for part in error["loc"]), message=error["msg"])
            for error in exc.errors(include_input=False, include_url=False)
        ]
        body = ErrorBody(
            error="invalid_request", message="the body does not fit its schema", problems=problems
        )
        return json_response(422, body)
