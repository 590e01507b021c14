"""WebhookAuditSink: live forwarding as signed JSON batches over HTTP POST.

Body: ``{"events": [...]}``, each item a record (its canonical JSON) or
``{"type": "audit.checkpoint", "checkpoint": {...}}``. Headers:
``X-Glassgate-Timestamp: <unix seconds>`` and
``X-Glassgate-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``;
a receiver recomputes the HMAC, compares in constant time and rejects old
timestamps (replay). 2xx is delivered; 408, 429, 5xx and network errors are
retried with backoff; any other status is a permanent refusal (dropped, counted).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

import httpx

from glassgate.adapters.audit_sinks._forwarder import ForwardingSink
from glassgate.audit.checkpoints import Checkpoint
from glassgate.audit.records import AuditRecord
from glassgate.errors import AlertDeliveryError, PermanentDeliveryError
from glassgate.types import Clock, Secret

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignedPoster",
    "WebhookAuditSink",
    "sign_body",
]

SIGNATURE_HEADER = "X-Glassgate-Signature"
TIMESTAMP_HEADER = "X-Glassgate-Timestamp"
_RETRYABLE = frozenset({408, 425, 429})


def sign_body(secret: Secret, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(
        secret.reveal().encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256"
    )
    return f"sha256={mac.hexdigest()}"


class SignedPoster:
    """POSTs signed JSON bodies to one URL; shared by the audit and the alert webhooks.

    ``post`` returns on 2xx and raises ``AlertDeliveryError`` otherwise:
    ``PermanentDeliveryError`` for a status that a retry cannot change.
    """

    def __init__(
        self,
        url: str,
        secret: Secret,
        *,
        clock: Clock,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return f"webhook {_origin(self._url)}"

    def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport, follow_redirects=False
            )

    async def post(self, body: bytes) -> None:
        if self._client is None:
            raise AlertDeliveryError(f"{self.name} was not started")
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_body(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise AlertDeliveryError(f"{self.name} unreachable: {exc!r}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"{self.name} answered HTTP {status}"
        if status in _RETRYABLE or status >= 500:
            raise AlertDeliveryError(message)
        raise PermanentDeliveryError(message)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class WebhookAuditSink(ForwardingSink):
    def __init__(
        self,
        url: str,
        secret: Secret,
        *,
        clock: Clock,
        timeout: float = 5.0,
        event_types: Sequence[str] = (),
        queue_size: int = 10_000,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_initial: float = 0.1,
    ) -> None:
        self._timeout = timeout
        self._poster = SignedPoster(url, secret, clock=clock, timeout=timeout, transport=transport)
        super().__init__(
            self._post,
            name=self._poster.name,
            event_types=event_types,
            queue_size=queue_size,
            backoff_initial=backoff_initial,
        )

    def _encode(self, record: AuditRecord) -> bytes:
        return record.body

    def _encode_checkpoint(self, checkpoint: Checkpoint) -> bytes:
        return b'{"checkpoint":' + checkpoint.to_json() + b',"type":"audit.checkpoint"}'

    async def start(self) -> None:
        self._poster.open()
        self._forwarder.start()

    async def _post(self, batch: list[bytes]) -> None:
        await self._poster.post(b'{"events":[' + b",".join(batch) + b"]}")

    async def close(self) -> None:
        await self._forwarder.close(self._timeout)
        await self._poster.close()


def _origin(url: str) -> str:
    """Scheme, host and port only: a webhook URL's path or query may hold a token."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"
