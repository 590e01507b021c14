"""MemoryApiKeyStore: an in-process ``ApiKeyStore`` for tests and demos."""

from __future__ import annotations

import dataclasses
import threading

from glassgate.tokens.api_keys import ApiKeyRecord

__all__ = ["MemoryApiKeyStore"]


class MemoryApiKeyStore:
    """An in-process ``ApiKeyStore`` for tests and demos, held to the same contract."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ApiKeyRecord] = {}

    def add(self, record: ApiKeyRecord) -> bool:
        with self._lock:
            if record.key_id in self._records:
                return False
            self._records[record.key_id] = record
            return True

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with self._lock:
            return self._records.get(key_id)

    def records(self) -> list[ApiKeyRecord]:
        with self._lock:
            found = list(self._records.values())
        return sorted(found, key=lambda record: (record.created_at, record.key_id))

    def revoke(self, key_id: str, at: float, by: str | None = None) -> ApiKeyRecord | None:
        with self._lock:
            record = self._records.get(key_id)
            if record is None or record.revoked_at is not None:
                return record
            revoked = dataclasses.replace(record, revoked_at=at, revoked_by=by)
            self._records[key_id] = revoked
            return revoked

    def close(self) -> None:
        """Nothing to release."""
