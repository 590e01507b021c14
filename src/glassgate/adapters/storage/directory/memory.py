"""DirectoryStore in memory: tests, and a gateway without a database for its directory."""

from __future__ import annotations

import threading
from dataclasses import replace

from glassgate.directory.models import Group, User
from glassgate.directory.records import DirectoryWrites, StoredDirectory
from glassgate.directory.rules import GroupRule
from glassgate.errors import DirectoryConflictError
from glassgate.tokens.api_keys import ApiKeyRecord

__all__ = ["MemoryDirectoryStore"]


class MemoryDirectoryStore:
    """The same contract as the SQL stores, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._groups: dict[str, Group] = {}
        self._rules: tuple[GroupRule, ...] = ()
        self._revision = 0
        self._tokens: dict[str, ApiKeyRecord] = {}

    def load(self) -> StoredDirectory:
        with self._lock:
            users, groups = tuple(self._users.values()), tuple(self._groups.values())
            return StoredDirectory(users, groups, self._rules, self._revision)

    def revision(self) -> int:
        with self._lock:
            return self._revision

    def commit(self, writes: DirectoryWrites, expected_revision: int) -> int:
        with self._lock:
            if expected_revision != self._revision:
                raise DirectoryConflictError(
                    "the directory was changed by another process meanwhile; nothing was written"
                )
            for user_id in writes.delete_users:
                self._users.pop(user_id, None)
            self._users.update((user.id, user) for user in writes.put_users)
            for group_id in writes.delete_groups:
                self._groups.pop(group_id, None)
            self._groups.update((group.id, group) for group in writes.put_groups)
            if writes.rules is not None:
                self._rules = writes.rules
            self._revision += 1
            return self._revision

    def scim_tokens(self) -> list[ApiKeyRecord]:
        with self._lock:
            return sorted(self._tokens.values(), key=lambda r: (r.created_at, r.key_id))

    def add_scim_token(self, record: ApiKeyRecord) -> bool:
        with self._lock:
            if record.key_id in self._tokens:
                return False
            self._tokens[record.key_id] = record
            return True

    def revoke_scim_tokens(self, at: float, by: str | None, keep: str | None = None) -> int:
        with self._lock:
            live = [r for r in self._tokens.values() if r.revoked_at is None and r.key_id != keep]
            for record in live:
                self._tokens[record.key_id] = replace(record, revoked_at=at, revoked_by=by)
            return len(live)

    def close(self) -> None:
        """Nothing to release."""
