"""RFC 7662 token introspection for opaque (non-JWS) access tokens.

The gateway authenticates as a client (``client_secret_basic``, RFC 6749
§2.3.1: id and secret form-encoded, then HTTP Basic) and POSTs the token. Only
``"active": true`` (the JSON boolean) is accepted (RFC 7662 §2.2), and the
answer then goes through the same ``iss`` (exact), ``aud`` and ``exp`` checks as
a JWT's claims. Results are cached by token hash for at most ``cache_ttl`` and
never past ``exp``.

Every opaque token would otherwise cost an IdP call, so one client cannot
turn the gateway into an amplifier against its IdP:

- a refused answer (inactive, or failing a claim check) is remembered for
  ``negative_cache_ttl`` (a few seconds: a token that becomes active is
  accepted that much later);
- identical lookups in flight share one call (single flight); a caller that
  gives up does not cancel it for the others;
- at most ``max_concurrency`` calls are in flight; a lookup that cannot get a
  slot within ``timeout`` is ``IdPUnavailableError``, as is any IdP error
  (5xx, 429, timeouts), which is never remembered. The gateway answers those
  with 503, never 401 and never 500.

The client secret is a ``SecretStr`` until the moment the request is built; it
is never logged, and no message here holds it or the token.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import OrderedDict
from typing import Final, NamedTuple
from urllib.parse import quote_plus

import httpx
from pydantic import SecretStr

from glassgate.adapters.idp._http import fetch
from glassgate.adapters.idp.discovery import discover
from glassgate.core.principal import CredentialKind, Principal, token_fingerprint
from glassgate.errors import IdPUnavailableError, TokenError, TokenMalformedError
from glassgate.tokens import CachedToken, IssuerPolicy, VerifiedTokenCache, to_principal
from glassgate.tokens.claims import Claims, check_claims, parse_payload

__all__ = ["INTROSPECTION_MAX_BYTES", "IntrospectionClient"]

INTROSPECTION_MAX_BYTES: Final = 64 * 1024
#: RFC 6750 §2.1 b64token: what a bearer token may look like on the wire.
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class _Refusal(NamedTuple):
    """A remembered refusal: raised again, as a fresh error, until ``until``."""

    until: float
    error: type[TokenError]
    message: str


class IntrospectionClient:
    """Introspects opaque tokens for one issuer."""

    def __init__(
        self,
        policy: IssuerPolicy,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: SecretStr,
        endpoint: str | None = None,
        discovery_url: str | None = None,
        timeout: float = 5.0,
        cache_ttl: float = 60.0,
        cache_size: int = 10_000,
        negative_cache_ttl: float = 5.0,
        max_concurrency: int = 16,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.policy = policy
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._endpoint = endpoint
        self._discovery_url = discovery_url
        self._timeout = timeout
        self._ttl = cache_ttl
        self._cache = VerifiedTokenCache(cache_size)
        self._negative_ttl = negative_cache_ttl
        self._refused: OrderedDict[str, _Refusal] = OrderedDict()
        self._refused_max = cache_size
        self._inflight: dict[str, asyncio.Task[Claims]] = {}
        self._slots = asyncio.Semaphore(max_concurrency)
        self._max_concurrency = max_concurrency
        self.requests = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"IntrospectionClient(issuer={self.policy.id!r}, client_id={self._client_id!r})"

    async def introspect(self, raw: str, now: float) -> Principal:
        """The ``Principal`` for an active opaque token, or raise.

        ``TokenError`` when the token is malformed, inactive or fails a claim
        check; ``IdPUnavailableError`` when the server cannot be asked.
        """
        if not _B64TOKEN.fullmatch(raw):  # its size was capped where it came in (inbound)
            raise TokenMalformedError("the token is not a well-formed bearer token")
        fingerprint = token_fingerprint(raw)
        cached = self._cache.get(fingerprint, now)
        if cached is not None:
            return cached.principal
        self._check_not_refused(fingerprint, now)
        claims = await self._shared_lookup(raw, fingerprint)
        try:
            return self._accept(claims, fingerprint, now)
        except TokenError as exc:
            self._remember_refusal(fingerprint, now, exc)
            raise

    def _accept(self, claims: Claims, fingerprint: str, now: float) -> Principal:
        if claims.get("active") is not True:
            raise TokenError("the authorization server says the token is not active")
        check_claims(claims, self.policy, now)
        principal = to_principal(claims, self.policy, fingerprint, CredentialKind.OPAQUE)
        expires_at = min(now + self._ttl, float(claims["exp"]))
        self._cache.put(fingerprint, CachedToken(principal, expires_at, self.policy.id))
        return principal

    def _check_not_refused(self, fingerprint: str, now: float) -> None:
        refusal = self._refused.get(fingerprint)
        if refusal is None:
            return
        if now >= refusal.until:
            del self._refused[fingerprint]
            return
        raise refusal.error(refusal.message)

    def _remember_refusal(self, fingerprint: str, now: float, exc: TokenError) -> None:
        if self._negative_ttl <= 0:
            return
        self._refused[fingerprint] = _Refusal(now + self._negative_ttl, type(exc), str(exc))
        self._refused.move_to_end(fingerprint)
        if len(self._refused) > self._refused_max:
            self._refused.popitem(last=False)

    async def _shared_lookup(self, raw: str, fingerprint: str) -> Claims:
        """One IdP call per token at a time, whoever else is waiting for the same answer."""
        task = self._inflight.get(fingerprint)
        if task is None:
            task = asyncio.ensure_future(self._bounded_ask(raw))
            self._inflight[fingerprint] = task
            task.add_done_callback(lambda done: self._lookup_done(fingerprint, done))
        return await asyncio.shield(task)

    def _lookup_done(self, fingerprint: str, task: asyncio.Task[Claims]) -> None:
        self._inflight.pop(fingerprint, None)
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have given up

    async def _bounded_ask(self, raw: str) -> Claims:
        try:
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        except TimeoutError:
            self.failures += 1
            raise IdPUnavailableError(
                f"introspection: {self._max_concurrency} lookups already in flight for "
                f"{self._timeout:g}s; the IdP is slow or the gateway is flooded with opaque tokens"
            ) from None
        try:
            return await self._ask(raw)
        finally:
            self._slots.release()

    async def _ask(self, raw: str) -> Claims:
        endpoint = await self._endpoint_url()
        self.requests += 1
        status, body = await fetch(
            self._http,
            "POST",
            endpoint,
            what="introspection",
            limit=INTROSPECTION_MAX_BYTES,
            timeout=self._timeout,
            data={"token": raw, "token_type_hint": "access_token"},
            headers={"Authorization": self._basic_auth(), "Accept": "application/json"},
        )
        if body is None:
            self.failures += 1
            raise IdPUnavailableError(f"introspection: {endpoint} answered HTTP {status}")
        try:
            return parse_payload(body)
        except TokenMalformedError as exc:
            self.failures += 1
            raise IdPUnavailableError("introspection: the answer is not a JSON object") from exc

    async def _endpoint_url(self) -> str:
        if self._endpoint is None:
            metadata = await discover(
                self._http,
                self.policy.issuer,
                discovery_url=self._discovery_url,
                timeout=self._timeout,
            )
            if metadata.introspection_endpoint is None:
                raise IdPUnavailableError("introspection: the IdP advertises no endpoint")
            self._endpoint = metadata.introspection_endpoint
        return self._endpoint

    def _basic_auth(self) -> str:
        user = quote_plus(self._client_id)
        password = quote_plus(self._client_secret.get_secret_value())
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
