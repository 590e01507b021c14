"""JwksKeySource: fetches each issuer's JWK Set and keeps its ``KeyRing`` current.

- Initial load at ``start()``; a background refresh every ``refresh_interval``
  (retried sooner after a failure). A failed fetch keeps the last good keys and
  is counted; the ring's staleness limit makes verification fail closed once
  they are too old (SPEC C1).
- ``refresh_for_unknown_kid``: an unknown ``kid`` may cause one refresh per
  ``unknown_kid_min_interval``, and concurrent callers share one fetch
  (single-flight), so a flood of made-up ``kid`` values costs at most one fetch
  per interval (RFC 8725 §3.10 spirit: the attacker does not drive our I/O).
- One unusable key does not sink the set (RFC 7517 §5); a set with no usable
  key at all counts as a failed fetch.

Rings are immutable and swapped whole, so a verifier always sees one set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from glassgate.adapters.idp._http import fetch_json
from glassgate.adapters.idp.discovery import discover
from glassgate.errors import IdPUnavailableError
from glassgate.tokens.keyring import KeyRing, SigningKey, parse_jwks
from glassgate.types import Clock

if TYPE_CHECKING:
    from glassgate.config.schema import IssuerConfig

__all__ = ["JwksKeySource", "JwksSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JwksSettings:
    """Where one issuer's keys come from and how long they are trusted."""

    issuer_id: str
    issuer: str
    jwks_uri: str | None = None
    discovery_url: str | None = None
    refresh_interval: float = 300.0
    max_staleness: float = 86400.0
    unknown_kid_min_interval: float = 10.0
    fetch_timeout: float = 5.0
    max_document_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        positive = (self.refresh_interval, self.max_staleness, self.fetch_timeout)
        if min(positive) <= 0 or self.unknown_kid_min_interval < 0:
            raise ValueError(
                f"issuer {self.issuer_id!r}: refresh_interval, max_staleness and fetch_timeout "
                "must be positive, unknown_kid_min_interval not negative"
            )
        if self.max_document_bytes < 1:
            raise ValueError(f"issuer {self.issuer_id!r}: max_document_bytes must be positive")

    @classmethod
    def from_config(cls, config: IssuerConfig) -> JwksSettings:
        jwks = config.jwks
        return cls(
            issuer_id=config.id,
            issuer=config.issuer,
            jwks_uri=config.jwks_uri,
            discovery_url=config.discovery_url,
            refresh_interval=jwks.refresh_interval,
            max_staleness=jwks.max_staleness,
            unknown_kid_min_interval=jwks.unknown_kid_min_interval,
            fetch_timeout=jwks.fetch_timeout,
            max_document_bytes=jwks.max_document_bytes,
        )


class JwksKeySource:
    """Owns one ``KeyRing`` per issuer; counters are plain ints for metrics."""

    def __init__(
        self, settings: Sequence[JwksSettings], http: httpx.AsyncClient, clock: Clock
    ) -> None:
        self._settings = {s.issuer_id: s for s in settings}
        if len(self._settings) != len(settings):
            raise ValueError("each issuer id may appear only once")
        self._http = http
        self._clock = clock
        self._rings: Mapping[str, KeyRing] = {
            s.issuer_id: KeyRing(
                s.issuer_id,
                max_staleness=s.max_staleness,
                unknown_kid_min_interval=s.unknown_kid_min_interval,
            )
            for s in settings
        }
        self._jwks_uris = {s.issuer_id: s.jwks_uri for s in settings if s.jwks_uri}
        self._inflight: dict[str, asyncio.Task[bool]] = {}
        self._background: list[asyncio.Task[None]] = []
        self.fetches = 0
        self.failures = 0
        self.fetches_by_issuer: Counter[str] = Counter()  # read by metrics at scrape time
        self.failures_by_issuer: Counter[str] = Counter()
        self.unknown_kid_refreshes = 0
        self.unknown_kid_refreshes_suppressed = 0
        self.last_errors: dict[str, str] = {}

    @property
    def keyrings(self) -> Mapping[str, KeyRing]:
        """The current rings by issuer id (a snapshot: never mutated in place)."""
        return self._rings

    @property
    def ready(self) -> bool:
        """True once every issuer has had at least one good JWKS."""
        return all(ring.last_success is not None for ring in self._rings.values())

    async def start(self) -> None:
        """Load every issuer's keys once, then refresh them in the background.
        An IdP that is down at start is not fatal: ``ready`` stays False."""
        if self._background:
            return
        ids = list(self._settings)
        results = await asyncio.gather(*(self.refresh(issuer_id) for issuer_id in ids))
        loop = asyncio.get_running_loop()
        for issuer_id, ok in zip(ids, results, strict=True):
            task = loop.create_task(self._refresh_forever(issuer_id, ok))
            self._background.append(task)

    async def aclose(self) -> None:
        tasks = [*self._background, *self._inflight.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()

    async def refresh(self, issuer_id: str) -> bool:
        """Fetch ``issuer_id``'s JWKS now, sharing a fetch already under way.
        Returns whether the keys were refreshed; never raises for IdP trouble."""
        task = self._inflight.get(issuer_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch(issuer_id))
            self._inflight[issuer_id] = task
        return await asyncio.shield(task)

    async def refresh_for_unknown_kid(self, issuer_id: str, now: float) -> bool:
        """One rate-limited, single-flight refresh on behalf of an unknown ``kid``."""
        ring = self._rings.get(issuer_id)
        if ring is None:
            return False
        if issuer_id in self._inflight:
            return await self.refresh(issuer_id)
        if not ring.should_refresh_for_unknown_kid(now):
            self.unknown_kid_refreshes_suppressed += 1
            return False
        self._swap(ring.with_unknown_kid_refresh(now))
        self.unknown_kid_refreshes += 1
        return await self.refresh(issuer_id)

    async def _refresh_forever(self, issuer_id: str, ok: bool) -> None:
        settings = self._settings[issuer_id]
        retry = min(settings.refresh_interval, max(settings.unknown_kid_min_interval, 1.0))
        while True:
            await asyncio.sleep(settings.refresh_interval if ok else retry)
            ok = await self.refresh(issuer_id)

    async def _fetch(self, issuer_id: str) -> bool:
        settings = self._settings[issuer_id]
        self.fetches += 1
        self.fetches_by_issuer[issuer_id] += 1
        try:
            keys = await self._load(settings)
        except (IdPUnavailableError, ValueError) as exc:
            self._failed(settings, str(exc))
            return False
        except Exception as exc:  # a bug must not stop refreshing; staleness still bites
            log.exception("JWKS refresh of issuer %r failed unexpectedly", issuer_id)
            self._failed(settings, f"unexpected {type(exc).__name__}")
            return False
        finally:
            self._inflight.pop(issuer_id, None)
        self._swap(self._rings[issuer_id].replace(keys, self._clock()))
        self.last_errors.pop(issuer_id, None)
        return True

    async def _load(self, settings: JwksSettings) -> tuple[SigningKey, ...]:
        uri = await self._jwks_uri(settings)
        status, document = await fetch_json(
            self._http,
            "GET",
            uri,
            what=f"JWKS of issuer {settings.issuer_id!r}",
            limit=settings.max_document_bytes,
            timeout=settings.fetch_timeout,
        )
        if document is None:
            raise IdPUnavailableError(f"JWKS: {uri} answered HTTP {status}")
        keys, skipped = parse_jwks(document)
        for reason in skipped:
            log.info("JWKS of issuer %r: skipped %s", settings.issuer_id, reason)
        if not keys:
            raise IdPUnavailableError(f"JWKS: {uri} holds no usable signing key")
        return keys

    async def _jwks_uri(self, settings: JwksSettings) -> str:
        uri = self._jwks_uris.get(settings.issuer_id)
        if uri is None:
            metadata = await discover(
                self._http,
                settings.issuer,
                discovery_url=settings.discovery_url,
                timeout=settings.fetch_timeout,
            )
            uri = self._jwks_uris[settings.issuer_id] = metadata.jwks_uri
        return uri

    def _failed(self, settings: JwksSettings, reason: str) -> None:
        self.failures += 1
        self.failures_by_issuer[settings.issuer_id] += 1
        self.last_errors[settings.issuer_id] = reason
        if not settings.jwks_uri:  # rediscover next time: the IdP may have moved its keys
            self._jwks_uris.pop(settings.issuer_id, None)
        log.warning("JWKS refresh of issuer %r failed: %s", settings.issuer_id, reason)

    def _swap(self, ring: KeyRing) -> None:
        self._rings = {**self._rings, ring.issuer_id: ring}
