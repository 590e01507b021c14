"""A real OpenID Connect provider (npm ``oidc-provider``) for integration tests.

``OidcProvider`` runs ``tests/support/idp/server.mjs`` under node on 127.0.0.1
and mints real RFC 9068 access tokens::

    provider.token(claims={"sub": "alice", "groups": ["Admins"], "amr": ["pwd", "mfa"]})
    provider.token(client="gateway-es256")          # ES256 instead of RS256
    provider.opaque_token(claims={"sub": "bob"})    # for RFC 7662 introspection

Claims passed in are written into the token last, so they can also override
``sub``, ``exp``, ``iss`` ... Key rotation is ``provider.rotate_keys()``: a
restart on the same port with a new RSA and EC key listed first.

The session fixture ``oidc_provider`` skips its tests when node or the npm
packages are missing, unless ``GLASSGATE_REQUIRE_INTEGRATION=1`` makes that a
failure. Set the packages up with ``npm ci`` in tests/support/idp.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest
from joserfc import jwk

from tests.support.integration import skip_or_fail

__all__ = [
    "IDP_DIR",
    "OidcProvider",
    "generate_keys",
    "integration_unavailable",
    "oidc_provider",
    "require_integration",
]

IDP_DIR = Path(__file__).resolve().parent / "idp"
AUDIENCE = "api://gateway"
OPAQUE_AUDIENCE = "api://gateway-opaque"
INTROSPECTOR = ("gateway-introspector", "gateway-introspector-secret")


def integration_unavailable() -> str | None:
    """Why the real IdP cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return "node is not installed (integration tests need it for oidc-provider)"
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"oidc-provider is not installed: run `npm ci` in {IDP_DIR}"
    return None


def require_integration() -> None:
    """Skip (or, with GLASSGATE_REQUIRE_INTEGRATION=1, fail) without node and npm packages."""
    reason = integration_unavailable()
    if reason is None:
        return
    skip_or_fail(reason)


def generate_keys(label: str | None = None) -> dict[str, Any]:
    """A private JWK Set with one RSA 2048 (RS256) and one EC P-256 (ES256) key."""
    label = label or secrets.token_hex(4)
    rsa = jwk.RSAKey.generate_key(
        2048, parameters={"kid": f"rsa-{label}", "use": "sig", "alg": "RS256"}
    )
    ec = jwk.ECKey.generate_key(
        "P-256", parameters={"kid": f"ec-{label}", "use": "sig", "alg": "ES256"}
    )
    return {"keys": [rsa.as_dict(private=True), ec.as_dict(private=True)]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OidcProvider:
    """One oidc-provider process; start/stop/restart keep the same port and issuer."""

    def __init__(
        self, workdir: Path | None = None, port: int | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.args = args  # more server.mjs options, e.g. ("--console-redirect", URI)
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="glassgate-idp-"))
        self.port = port or _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.keys: dict[str, Any] = generate_keys()
        self.log_path = self.workdir / "idp.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._generation = 0

    # --- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        self._generation += 1
        keys_file = self.workdir / f"keys-{self._generation}.json"
        keys_file.write_text(json.dumps(self.keys))
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    "node",
                    "server.mjs",
                    "--port",
                    str(self.port),
                    "--keys",
                    str(keys_file),
                    "--exit-with-stdin",
                    *self.args,
                ],
                cwd=IDP_DIR,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {self.log_tail()}")
            if self._ready_count() >= self._generation:
                return
            time.sleep(0.05)
        raise RuntimeError(f"oidc-provider not READY after {timeout}s: {self.log_tail()}")

    def _ready_count(self) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").splitlines().count("READY")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def restart(self, keys: Mapping[str, Any] | None = None) -> None:
        """Stop and start again on the same port, optionally with another key set."""
        self.stop()
        if keys is not None:
            self.keys = dict(keys)
        self.start()

    def rotate_keys(self, keep_old: bool = True) -> dict[str, Any]:
        """Restart with a new RSA and EC key listed first; returns the new key set."""
        fresh = generate_keys()
        if keep_old:
            fresh["keys"] += self.keys["keys"]
        self.restart(fresh)
        return fresh

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what tests use ---------------------------------------------------------

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def signing_kids(self) -> tuple[str, str]:
        """The (RSA, EC) kids that sign new tokens: the first key of each type."""
        keys = self.keys["keys"]
        rsa = next(k["kid"] for k in keys if k["kty"] == "RSA")
        ec = next(k["kid"] for k in keys if k["kty"] == "EC")
        return rsa, ec

    def token(
        self,
        claims: Mapping[str, Any] | None = None,
        client: str = "gateway",
        scope: str | None = None,
        resource: str | None = None,
    ) -> str:
        """A fresh access token from the client_credentials grant, with ``claims`` added."""
        form: dict[str, str] = {"grant_type": "client_credentials"}
        if claims:
            form["claims"] = json.dumps(dict(claims))
        if scope:
            form["scope"] = scope
        if resource:
            form["resource"] = resource
        response = httpx.post(
            f"{self.issuer}/token", data=form, auth=(client, f"{client}-secret"), timeout=10
        )
        if response.status_code != 200:
            raise RuntimeError(f"token request failed: {response.status_code} {response.text}")
        return str(response.json()["access_token"])

    def opaque_token(self, claims: Mapping[str, Any] | None = None, scope: str = "read") -> str:
        """An opaque access token (audience ``api://gateway-opaque``) for introspection."""
        return self.token(claims, scope=scope, resource=OPAQUE_AUDIENCE)

    def jwks_hits(self) -> int:
        """How many JWKS requests this process has served since it (re)started."""
        return int(httpx.get(f"{self.issuer}/__test__/stats", timeout=5).json()["jwks"])


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A real OIDC provider for the whole session (skipped without node/npm packages)."""
    require_integration()
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider"))
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()
