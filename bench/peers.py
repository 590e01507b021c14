"""The peers: nginx (upstream, plain proxy, auth_request front), Caddy and Traefik.

Each gets its own prefix under the run's temp directory, listens on a random
loopback port, runs one worker pinned to the server core, logs no access
lines, and keeps connections alive both ways (client side and upstream side)
with limits high enough that no connection is recycled during a run.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.procs import SERVER_CPU, Server, Supervisor, free_port, wait_http

__all__ = [
    "UPSTREAM_BODY",
    "start_caddy",
    "start_nginx_auth_request",
    "start_nginx_proxy",
    "start_traefik",
    "start_upstream",
    "tool",
]

UPSTREAM_BODY = '{"ok":true,"service":"bench-upstream","items":[1,2,3]}'
_READY = 20.0


def tool(name: str) -> str:
    """A program from the venv next to this interpreter, else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found (see bench/README.md for installs)")
    return found


def _nginx_conf(prefix: Path, servers: str, upstreams: str = "") -> str:
    temp = prefix / "tmp"
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    access_log off;
    server_tokens off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{upstreams}
{servers}
}}
"""


def _start_nginx(
    sup: Supervisor,
    name: str,
    conf: str,
    port: int,
    ready_path: str = "/healthz",
    cpu: int = SERVER_CPU,
) -> Server:
    prefix = sup.workdir / name
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(conf)
    argv = [tool("nginx"), "-p", str(prefix), "-c", str(path), "-e", str(prefix / "error.log")]
    server = sup.start(name, argv, port=port, cpu=cpu)
    wait_http(f"http://127.0.0.1:{port}{ready_path}", _READY, server.proc)
    return server


def _keepalive_upstream(name: str, port: int, idle: str = "75s") -> str:
    return f"""
    upstream {name} {{
        server 127.0.0.1:{port};
        keepalive 128;
        keepalive_requests 1000000;
        keepalive_timeout {idle};
    }}"""


_PROXY_TO = """
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";"""


def start_upstream(sup: Supervisor, jwks: bytes, cpu: int = SERVER_CPU) -> Server:
    """The origin: ``return 200`` with a small JSON body; serves the bench JWKS too.

    ``cpu`` is the server core, except when profiling: there the upstream moves
    to the load core so that samples of the gateway never include the time it
    waits while the upstream runs on its core.
    """
    port = free_port()
    # nginx workers started by root run as nobody: they must be able to read the JWKS.
    sup.workdir.chmod(0o755)
    www = sup.workdir / "upstream-www"
    www.mkdir(mode=0o755, parents=True, exist_ok=True)
    (www / "jwks.json").write_bytes(jwks)
    servers = f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        default_type application/json;
        location = /jwks.json {{ root {www}; }}
        location / {{ return 200 '{UPSTREAM_BODY}'; }}
    }}"""
    conf = _nginx_conf(sup.workdir / "upstream", servers)
    return _start_nginx(sup, "upstream", conf, port, cpu=cpu)


def start_nginx_proxy(sup: Supervisor, upstream_port: int) -> Server:
    port = free_port()
    servers = f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{{_PROXY_TO.format(name="app")}
        }}
    }}"""
    upstreams = _keepalive_upstream("app", upstream_port)
    conf = _nginx_conf(sup.workdir / "nginx-proxy", servers, upstreams)
    return _start_nginx(sup, "nginx-proxy", conf, port)


def start_nginx_auth_request(
    sup: Supervisor, upstream_port: int, gate_port: int, ready_path: str = "/public/healthz"
) -> Server:
    """nginx ``auth_request`` -> glassgate's forward-auth endpoint, then ``proxy_pass``.

    The same directives as ``examples/nginx/glassgate.conf`` on the request
    path (the identity headers from the auth answer are passed upstream, the
    client's identity headers are blanked), minus its error-mapping location.
    ``ready_path`` is a route glassgate allows anonymously, used only to wait
    for readiness.
    """
    port = free_port()
    # below glassgate's limits.keepalive_timeout (5s), as in examples/nginx/glassgate.conf
    gate = _keepalive_upstream("gate", gate_port, idle="4s")
    upstreams = _keepalive_upstream("app", upstream_port) + gate
    to_app = _PROXY_TO.format(name="app")
    blanked = "".join(
        f'\n            proxy_set_header {name} "";' for name in _CLIENT_IDENTITY_HEADERS
    )
    servers = f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /_glassgate/auth {{
            internal;
            proxy_pass http://gate;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Uri "";
            proxy_set_header X-Forwarded-Method "";
            proxy_set_header X-Forwarded-Host "";
        }}
        location / {{
            auth_request /_glassgate/auth;
            auth_request_set $glassgate_status $upstream_status;
            auth_request_set $glassgate_subject $upstream_http_x_glassgate_subject;
            auth_request_set $glassgate_issuer $upstream_http_x_glassgate_issuer;
            auth_request_set $glassgate_groups $upstream_http_x_glassgate_groups;
            auth_request_set $glassgate_identity $upstream_http_x_glassgate_identity;{to_app}
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Glassgate-Subject $glassgate_subject;
            proxy_set_header X-Glassgate-Issuer $glassgate_issuer;
            proxy_set_header X-Glassgate-Groups $glassgate_groups;
            proxy_set_header X-Glassgate-Identity $glassgate_identity;{blanked}
        }}
    }}"""
    conf = _nginx_conf(sup.workdir / "nginx-auth", servers, upstreams)
    return _start_nginx(sup, "nginx-auth", conf, port, ready_path)


_CLIENT_IDENTITY_HEADERS = (
    "X-Forwarded-User",
    "X-Forwarded-Email",
    "X-Forwarded-Groups",
    "X-Forwarded-Preferred-Username",
    "X-Forwarded-Access-Token",
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "X-Auth-Request-Groups",
    "X-Auth-Request-Preferred-Username",
    "X-Auth-Request-Access-Token",
    "X-Remote-User",
    "X-Remote-Groups",
    "Remote-User",
    "X-User",
    "X-User-Id",
    "X-User-Groups",
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
    "X-Original-URI",
    "X-Original-Method",
)


def _home_env(sup: Supervisor, name: str) -> dict[str, str]:
    home = sup.workdir / f"{name}-home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


def start_caddy(sup: Supervisor, upstream_port: int) -> Server:
    port = free_port()
    caddyfile = sup.workdir / "Caddyfile"
    caddyfile.write_text(
        f"""{{
    admin off
    auto_https off
    persist_config off
    log {{
        level ERROR
    }}
}}

http://127.0.0.1:{port} {{
    bind 127.0.0.1
    reverse_proxy 127.0.0.1:{upstream_port} {{
        transport http {{
            keepalive 75s
            keepalive_idle_conns 256
            keepalive_idle_conns_per_host 128
        }}
    }}
}}
"""
    )
    argv = [tool("caddy"), "run", "--config", str(caddyfile), "--adapter", "caddyfile"]
    server = sup.start("caddy", argv, env=_home_env(sup, "caddy"), port=port)
    wait_http(f"http://127.0.0.1:{port}/healthz", _READY, server.proc)
    return server


def start_traefik(sup: Supervisor, upstream_port: int) -> Server:
    port = free_port()
    dynamic = sup.workdir / "traefik-dynamic.yml"
    dynamic.write_text(
        f"""http:
  routers:
    all:
      rule: "PathPrefix(`/`)"
      entryPoints: [web]
      service: app
  services:
    app:
      loadBalancer:
        passHostHeader: true
        servers:
          - url: "http://127.0.0.1:{upstream_port}"
"""
    )
    static = sup.workdir / "traefik.yml"
    static.write_text(
        f"""entryPoints:
  web:
    address: "127.0.0.1:{port}"
providers:
  file:
    filename: "{dynamic}"
    watch: false
serversTransport:
  maxIdleConnsPerHost: 128
log:
  level: ERROR
global:
  checkNewVersion: false
  sendAnonymousUsage: false
"""
    )
    argv = [tool("traefik"), f"--configFile={static}"]
    server = sup.start("traefik", argv, env=_home_env(sup, "traefik"), port=port)
    wait_http(f"http://127.0.0.1:{port}/healthz", _READY, server.proc)
    return server
