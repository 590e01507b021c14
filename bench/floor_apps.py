"""Minimal apps for ``bench/floors.py`` (bench only, never served in production).

    python bench/floor_apps.py --app hello|pool-proxy --port N [--upstream PORT]

runs one on uvicorn exactly as ``glassgate serve`` configures it. For granian,
``bench.floor_apps:hello_asgi`` and ``bench.floor_apps:hello_rsgi`` are the
targets. ``pool-proxy`` forwards every request (GET, no body) through
glassgate's ``Target``/``UpstreamConnection`` pool and streams the answer back:
no gate, no header filtering, no identity, no observability.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from glassgate.adapters.http.upstreams import Target  # noqa: E402

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

UPSTREAM_ENV = "GLASSGATE_FLOOR_UPSTREAM"
_BODY = b'{"ok":true,"service":"bench-upstream","items":[1,2,3]}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"54")]
_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding"})


async def hello_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            message = await receive()
            await send({"type": message["type"] + ".complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


async def hello_rsgi(scope: Any, protocol: Any) -> None:
    protocol.response_bytes(
        200, [("content-type", "application/json"), ("content-length", "54")], _BODY
    )


class PoolProxy:
    """ASGI: every request through glassgate's keep-alive pool, nothing else."""

    def __init__(self, upstream_port: int) -> None:
        self.target = Target.from_url(f"http://127.0.0.1:{upstream_port}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            path += b"?" + scope["query_string"]
        head = b"GET " + path + b" HTTP/1.1\r\nhost: " + self.target.host_header + b"\r\n\r\n"
        conn = await self.target.connect(5.0)
        try:
            conn.send_head(head, head_only=False)
            response = await conn.response(60.0)
            headers = [(n, v) for n, v in response.headers if n not in _HOP]
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            while (chunk := await conn.next_chunk(60.0)) is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except BaseException:
            conn.close()
            raise
        self.target.release(conn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", choices=["hello", "pool-proxy"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, default=int(os.environ.get(UPSTREAM_ENV, "0")))
    args = parser.parse_args()
    import uvicorn  # noqa: PLC0415 - only the uvicorn variant needs it

    app: Any = hello_asgi if args.app == "hello" else PoolProxy(args.upstream)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        ws="none",
    )


if __name__ == "__main__":
    main()
