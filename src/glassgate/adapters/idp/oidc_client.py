"""The console's OAuth 2.0 client for the IdP sign-in: authlib's code flow with PKCE S256.

``ports.OidcCodeClient``: the authorization URL (``response_type=code``,
``state``, ``nonce``, ``code_challenge`` S256 from the verifier) and the code
exchange at the token endpoint (client secret basic, the verifier), returning
the raw ID token for ``tokens.id_tokens`` to verify. The endpoints come from
the issuer's discovery document (``adapters.idp.discovery``), fetched on first
use and kept. Everything that fails here is the IdP's side: an unreachable
IdP is ``IdPUnavailableError`` (503), a refused code ``AuthenticationFailedError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from glassgate.adapters.idp.discovery import ProviderMetadata, discover
from glassgate.errors import AuthenticationFailedError, IdPUnavailableError
from glassgate.types import Secret

__all__ = ["AuthlibCodeClient"]

_TIMEOUT = 10.0


@contextmanager
def _map_errors() -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError as exc:
        raise IdPUnavailableError(f"the IdP could not be reached ({type(exc).__name__})") from exc
    except AuthlibBaseError as exc:
        raise AuthenticationFailedError(f"code-refused:{str(exc.error)[:40]}") from exc


class AuthlibCodeClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        issuer: str,
        discovery_url: str | None,
        client_id: str,
        client_secret: Secret,
        redirect_uri: str,
        scopes: tuple[str, ...],
    ) -> None:
        self._http = http
        self._issuer = issuer
        self._discovery_url = discovery_url
        self._client_id = client_id
        self._secret = client_secret
        self._redirect_uri = redirect_uri
        self._scope = " ".join(scopes)
        self._metadata: ProviderMetadata | None = None

    async def _endpoints(self) -> tuple[str, str]:
        metadata = self._metadata
        if metadata is None:
            metadata = await discover(self._http, self._issuer, discovery_url=self._discovery_url)
        if metadata.authorization_endpoint is None or metadata.token_endpoint is None:
            raise IdPUnavailableError(
                "discovery: the IdP publishes no authorization or token endpoint"
            )
        self._metadata = metadata
        return metadata.authorization_endpoint, metadata.token_endpoint

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._secret.reveal(),
            scope=self._scope,
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method's name)
            timeout=_TIMEOUT,
            trust_env=False,
            follow_redirects=False,
        )

    async def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        authorize, _ = await self._endpoints()
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                authorize, state=state, code_verifier=verifier, nonce=nonce
            )
        return str(url)

    async def exchange(self, code: str, verifier: str) -> str:
        _, token_url = await self._endpoints()
        with _map_errors():
            async with self._client() as client:
                token = await client.fetch_token(
                    token_url, grant_type="authorization_code", code=code, code_verifier=verifier
                )
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise AuthenticationFailedError("no-id-token")
        return raw
