"""The scenarios, and the services they need (started once per run, on demand).

A scenario names the service wrk talks to (``front``) and the services whose
CPU counts as server-side (``cpu``): the upstream is measured on its own and
never counted against a proxy. A service that cannot start (a missing binary,
a glassgate feature not there yet) makes its scenarios "skipped" with the
reason; the rest of the run goes on.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import gateway, peers
from bench.procs import SERVER_CPU, Server, Supervisor, free_port, wait_http

__all__ = ["MAIN", "SCENARIOS", "Scenario", "Services", "UnavailableError"]

ROOT = gateway.ROOT


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    front: str
    cpu: tuple[str, ...]
    glassgate: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("direct", "1 direct to upstream (nginx return 200)", "upstream", ("upstream",)),
        Scenario("nginx", "2 nginx proxy_pass, keep-alive", "nginx-proxy", ("nginx-proxy",)),
        Scenario("caddy", "3 Caddy reverse_proxy", "caddy", ("caddy",)),
        Scenario("traefik", "4 Traefik (file provider)", "traefik", ("traefik",)),
        Scenario(
            "glassgate",
            "5 glassgate proxy, reference policy, all on",
            "glassgate",
            ("glassgate",),
            glassgate=True,
        ),
        Scenario(
            "forward-auth",
            "6 nginx auth_request -> glassgate forward-auth",
            "nginx-auth",
            ("nginx-auth", "glassgate-fa"),
            glassgate=True,
        ),
        Scenario(
            "glassgate-nocache",
            "7 glassgate proxy, token cache off",
            "glassgate-nocache",
            ("glassgate-nocache",),
            glassgate=True,
        ),
        Scenario(
            "glassgate-directory",
            "5d as 5, directory groups merged (1,000 users)",
            "glassgate-directory",
            ("glassgate-directory",),
            glassgate=True,
        ),
        Scenario(
            "uvicorn-hello", "floor: uvicorn, ASGI hello", "uvicorn-hello", ("uvicorn-hello",)
        ),
        Scenario(
            "granian-asgi-hello",
            "floor: granian ASGI hello",
            "granian-asgi-hello",
            ("granian-asgi-hello",),
        ),
        Scenario(
            "granian-rsgi-hello",
            "floor: granian RSGI hello",
            "granian-rsgi-hello",
            ("granian-rsgi-hello",),
        ),
        Scenario(
            "uvicorn-pool-proxy",
            "floor: uvicorn + glassgate's pool, no gate",
            "uvicorn-pool-proxy",
            ("uvicorn-pool-proxy",),
        ),
        Scenario(
            "glassgate-granian",
            "glassgate proxy on granian ASGI (uvloop)",
            "glassgate-granian",
            ("glassgate-granian",),
            glassgate=True,
        ),
    )
}

MAIN = ("direct", "nginx", "caddy", "traefik", "glassgate", "forward-auth", "glassgate-nocache")


class UnavailableError(Exception):
    """A service could not be started; its scenarios are skipped."""


@dataclass
class Services:
    """Starts services by name on first use and remembers failures."""

    sup: Supervisor
    jwks: bytes
    probe_token: str
    audit: bool = True
    upstream_cpu: int = SERVER_CPU
    log_level: str = "info"
    access_log: bool = True
    gc_tuned: bool = False
    audit_sample_rate: float = 1.0
    started: dict[str, Server] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Server:
        if name in self.failed:
            raise UnavailableError(self.failed[name])
        if name not in self.started:
            try:
                self.started[name] = self._starters()[name]()
            except UnavailableError as exc:
                self.failed[name] = str(exc)
                raise
            except (OSError, RuntimeError, TimeoutError) as exc:
                self.failed[name] = f"{name} did not start: {exc}"
                raise UnavailableError(self.failed[name]) from exc
        return self.started[name]

    def _starters(self) -> dict[str, Callable[[], Server]]:
        def up() -> int:
            return self.get("upstream").port

        return {
            "upstream": lambda: peers.start_upstream(self.sup, self.jwks, self.upstream_cpu),
            "nginx-proxy": lambda: peers.start_nginx_proxy(self.sup, up()),
            "caddy": lambda: peers.start_caddy(self.sup, up()),
            "traefik": lambda: peers.start_traefik(self.sup, up()),
            "glassgate": lambda: self._gateway("glassgate"),
            "glassgate-nocache": lambda: self._gateway("glassgate-nocache", token_cache=False),
            "glassgate-granian": lambda: self._gateway("glassgate-granian", server="granian"),
            "glassgate-fa": lambda: self._gateway("glassgate-fa", forward_auth=True),
            "glassgate-directory": lambda: self._gateway("glassgate-directory", directory=True),
            "nginx-auth": self._nginx_auth,
            "uvicorn-hello": lambda: self._floor("uvicorn-hello", ["--app", "hello"]),
            "uvicorn-pool-proxy": lambda: self._floor(
                "uvicorn-pool-proxy", ["--app", "pool-proxy", "--upstream", str(up())]
            ),
            "granian-asgi-hello": lambda: self._granian("granian-asgi-hello", "asgi"),
            "granian-rsgi-hello": lambda: self._granian("granian-rsgi-hello", "rsgi"),
        }

    def _floor(self, name: str, args: list[str]) -> Server:
        port = free_port()
        argv = [sys.executable, str(ROOT / "bench" / "floor_apps.py"), *args, "--port", str(port)]
        server = self.sup.start(name, argv, cwd=ROOT, port=port)
        wait_http(f"http://127.0.0.1:{port}/healthz", 20.0, server.proc)
        return server

    def _granian(self, name: str, interface: str) -> Server:
        port = free_port()
        argv = [peers.tool("granian"), "--interface", interface, "--loop", "uvloop", "--http", "1"]
        argv += ["--no-ws", "--workers", "1", "--runtime-mode", "st", "--log-level", "warning"]
        argv += ["--host", "127.0.0.1", "--port", str(port), f"bench.floor_apps:hello_{interface}"]
        env = {"PYTHONPATH": str(ROOT)}
        server = self.sup.start(name, argv, cwd=ROOT, env=env, port=port)
        wait_http(f"http://127.0.0.1:{port}/healthz", 20.0, server.proc)
        return server

    def _gateway(
        self,
        name: str,
        *,
        server: str = "uvicorn",
        token_cache: bool = True,
        forward_auth: bool = False,
        directory: bool = False,
    ) -> Server:
        return gateway.start_gateway(
            self.sup,
            name,
            self.get("upstream").port,
            audit=self.audit,
            server=server,
            token_cache=token_cache,
            forward_auth=forward_auth,
            directory=directory,
            log_level=self.log_level,
            access_log=self.access_log,
            gc_tuned=self.gc_tuned,
            audit_sample_rate=self.audit_sample_rate,
        )

    def _nginx_auth(self) -> Server:
        gate = self.get("glassgate-fa")
        status = forward_auth_status(gate.port, self.probe_token)
        if status != 200:
            raise UnavailableError(
                f"glassgate has no working forward-auth endpoint yet "
                f"(GET /_glassgate/auth with a valid token answered {status})"
            )
        return peers.start_nginx_auth_request(
            self.sup, self.get("upstream").port, gate.port, gateway.READY_PATH
        )


def forward_auth_status(port: int, token: str) -> int:
    """What glassgate's forward-auth endpoint says to a request nginx would send."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_glassgate/auth",
        headers={
            "Authorization": f"Bearer {token}",
            "X-Original-URI": gateway.LOAD_PATHS[1],
            "X-Original-Method": "GET",
            "X-Forwarded-For": "127.0.0.1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0
