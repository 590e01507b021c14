"""The IdP adapters' one way to talk HTTP: bounded bodies, httpx errors translated.

Only this package may catch ``httpx`` exceptions; each becomes an
``IdPUnavailableError`` raised ``from`` the original, with a message that names
the URL but never a token or a client secret.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from glassgate.errors import IdPUnavailableError

__all__ = ["fetch", "fetch_json", "map_httpx_errors", "parse_json_object", "read_bounded"]


@contextmanager
def map_httpx_errors(what: str, url: str) -> Iterator[None]:
    """Turn any transport-level failure into ``IdPUnavailableError``."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise IdPUnavailableError(f"{what}: {url} timed out") from exc
    except httpx.HTTPError as exc:
        raise IdPUnavailableError(f"{what}: {url} failed ({type(exc).__name__})") from exc
    except httpx.InvalidURL as exc:
        raise IdPUnavailableError(f"{what}: {url} is not a valid URL") from exc


@asynccontextmanager
async def _stream(
    http: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any
) -> AsyncIterator[httpx.Response]:
    with map_httpx_errors(what, url):
        async with http.stream(method, url, **kwargs) as response:
            yield response


async def read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body, refusing to hold more than ``limit`` bytes (checked while reading)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise IdPUnavailableError(f"{what}: the response is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise IdPUnavailableError(f"{what}: the response is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(body: bytes, what: str) -> Mapping[str, Any]:
    """A JSON object, or ``IdPUnavailableError`` (the IdP answered nonsense)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise IdPUnavailableError(f"{what}: the response is not valid JSON") from exc
    if not isinstance(document, dict):
        raise IdPUnavailableError(f"{what}: the response is not a JSON object")
    return document


async def fetch(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    limit: int,
    timeout: float,
    **kwargs: Any,
) -> tuple[int, bytes | None]:
    """``(200, body)`` for a 200 answer, ``(status, None)`` otherwise."""
    async with _stream(http, method, url, what, timeout=timeout, **kwargs) as response:
        if response.status_code != 200:
            return response.status_code, None
        with map_httpx_errors(what, url):
            body = await read_bounded(response, limit, what)
    return 200, body


async def fetch_json(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    limit: int,
    timeout: float,
    **kwargs: Any,
) -> tuple[int, Mapping[str, Any] | None]:
    """``(200, JSON object)`` for a 200 answer, ``(status, None)`` otherwise."""
    status, body = await fetch(http, method, url, what=what, limit=limit, timeout=timeout, **kwargs)
    return status, None if body is None else parse_json_object(body, what)
