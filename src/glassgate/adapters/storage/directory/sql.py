"""DirectoryStore on SQLite and PostgreSQL (SPEC C6): one SQL, two transactions.

``load`` reads the whole directory in one read transaction, so it never sees
half of a commit. ``commit`` runs in one write transaction: it first moves
``directory_state.revision`` from the expected value to the next one (no
row updated: another process committed, ``DirectoryConflictError``, nothing
written), then writes. Rows that are replaced are deleted and inserted again,
so swapping two userNames in one commit never trips the unique indexes.
Values are bound parameters; a row that does not read back as a valid user,
group or rule raises ``StorageUnavailableError`` (never a guess).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from glassgate.adapters.storage._connection import PostgresConnection, SqliteConnection
from glassgate.directory.models import Group, User, UserStatus, attributes_json
from glassgate.directory.records import DirectoryWrites, StoredDirectory
from glassgate.directory.rules import GroupRule
from glassgate.errors import DirectoryConflictError, StorageUnavailableError
from glassgate.tokens.api_keys import ApiKeyRecord

if TYPE_CHECKING:  # psycopg loads only when a PostgreSQL store connects (issue 10: RSS)
    import psycopg

__all__ = ["PostgresDirectoryStore", "SqliteDirectoryStore"]

SCIM_SUBJECT = "scim"
_USERS = (
    "id, user_name, user_key, status, external_id, attributes, extra, version, created, modified"
)
_GROUPS = "id, name, name_key, external_id, extra, version, created, modified"
_RULES = "position, id, name, expression, assign, exclude_users, enabled"
_TOKENS = "key_id, name, secret_hash, created_at, created_by, revoked_at, revoked_by"


# A DB-API cursor or connection of either driver: both have execute() -> rows.
_Cursor = Any


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _user_row(user: User) -> tuple[object, ...]:
    attributes = attributes_json(user.attributes)
    return (
        user.id, user.user_name, user.key, user.status.value, user.external_id,
        _json(attributes), _json(dict(user.extra)), user.version, user.created, user.modified,
    )  # fmt: skip


def _group_row(group: Group) -> tuple[object, ...]:
    return (
        group.id, group.name, group.name.casefold(), group.external_id, _json(dict(group.extra)),
        group.version, group.created, group.modified,
    )  # fmt: skip


def _rule_row(position: int, rule: GroupRule) -> tuple[object, ...]:
    return (
        position, rule.id, rule.name, rule.expression, _json(list(rule.assign)),
        _json(sorted(rule.exclude_users)), 1 if rule.enabled else 0,
    )  # fmt: skip


def _user(row: Sequence[Any]) -> User:
    attributes = json.loads(row[5])
    return User(
        id=row[0],
        user_name=row[1],
        status=UserStatus(row[3]),
        external_id=row[4],
        attributes={k: tuple(v) if isinstance(v, list) else v for k, v in attributes.items()},
        extra=json.loads(row[6]),
        version=int(row[7]),
        created=float(row[8]),
        modified=float(row[9]),
    )


def _group(row: Sequence[Any], members: frozenset[str]) -> Group:
    return Group(
        id=row[0],
        name=row[1],
        members=members,
        external_id=row[3],
        extra=json.loads(row[4]),
        version=int(row[5]),
        created=float(row[6]),
        modified=float(row[7]),
    )


def _rule(row: Sequence[Any]) -> GroupRule:
    return GroupRule(
        id=row[1],
        name=row[2],
        expression=row[3],
        assign=tuple(json.loads(row[4])),
        exclude_users=frozenset(json.loads(row[5])),
        enabled=bool(row[6]),
    )


def _token(row: Sequence[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row[0], name=row[1], subject=SCIM_SUBJECT, secret_hash=row[2],
        created_at=float(row[3]), created_by=row[4],
        revoked_at=None if row[5] is None else float(row[5]), revoked_by=row[6],
    )  # fmt: skip


class _Statements:
    """Every statement, for one placeholder style (``?`` or ``%s``)."""

    def __init__(self, ph: str) -> None:
        def insert(table: str, columns: str) -> str:
            marks = ", ".join([ph] * len(columns.split(",")))
            return f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608

        self.ph = ph
        self.revision = "SELECT revision FROM directory_state WHERE id = 1"
        self.bump = (
            "UPDATE directory_state SET revision = revision + 1 "  # noqa: S608
            f"WHERE id = 1 AND revision = {ph}"
        )
        self.users = f"SELECT {_USERS} FROM directory_users"  # noqa: S608
        self.groups = f"SELECT {_GROUPS} FROM directory_groups"  # noqa: S608
        self.members = "SELECT group_id, user_id FROM directory_members"
        self.rules = f"SELECT {_RULES} FROM directory_rules ORDER BY position"  # noqa: S608
        self.add_user = insert("directory_users", _USERS)
        self.add_group = insert("directory_groups", _GROUPS)
        self.add_member = insert("directory_members", "group_id, user_id")
        self.add_rule = insert("directory_rules", _RULES)
        self.tokens = f"SELECT {_TOKENS} FROM scim_tokens ORDER BY created_at, key_id"  # noqa: S608
        self.add_token = insert("scim_tokens", _TOKENS) + " ON CONFLICT (key_id) DO NOTHING"
        self.revoke_tokens = (
            f"UPDATE scim_tokens SET revoked_at = {ph}, revoked_by = {ph} "  # noqa: S608
            f"WHERE revoked_at IS NULL AND key_id <> {ph}"
        )

    def delete(self, table: str, column: str, count: int) -> str:
        marks = ", ".join([self.ph] * count)
        return f"DELETE FROM {table} WHERE {column} IN ({marks})"  # noqa: S608


class _DirectorySql:
    """The DirectoryStore methods, shared by both databases over a DB-API cursor.

    Each database supplies ``_transaction``: one transaction, read-only or
    writing, rolled back on any error (SQLite: ``SqliteConnection``'s, so the
    connection class comes first in ``SqliteDirectoryStore``'s bases).
    """

    _sql = _Statements("?")
    _name = "database"

    def _transaction(self, action: str, *, write: bool = True) -> AbstractContextManager[_Cursor]:
        raise NotImplementedError

    def load(self) -> StoredDirectory:
        with self._transaction("read the directory", write=False) as cur:
            return self._read(cur)

    def revision(self) -> int:
        with self._transaction("read the directory revision", write=False) as cur:
            return self._revision(cur)

    def commit(self, writes: DirectoryWrites, expected_revision: int) -> int:
        with self._transaction("write the directory", write=True) as cur:
            return self._write(cur, writes, expected_revision)

    def scim_tokens(self) -> list[ApiKeyRecord]:
        with self._transaction("read SCIM tokens", write=False) as cur:
            return self._tokens(cur)

    def add_scim_token(self, record: ApiKeyRecord) -> bool:
        with self._transaction("store a SCIM token", write=True) as cur:
            return self._add_token(cur, record)

    def revoke_scim_tokens(self, at: float, by: str | None, keep: str | None = None) -> int:
        with self._transaction("revoke SCIM tokens", write=True) as cur:
            return self._revoke_tokens(cur, at, by, keep)

    def _revision(self, cur: _Cursor) -> int:
        return int(cur.execute(self._sql.revision).fetchone()[0])

    def _read(self, cur: _Cursor) -> StoredDirectory:
        sql = self._sql
        try:
            revision = self._revision(cur)
            users = tuple(_user(row) for row in cur.execute(sql.users).fetchall())
            members: dict[str, set[str]] = {}
            for gid, uid in cur.execute(sql.members).fetchall():
                members.setdefault(gid, set()).add(uid)
            rows = cur.execute(sql.groups).fetchall()
            groups = tuple(_group(row, frozenset(members.get(row[0], ()))) for row in rows)
            rules = tuple(_rule(row) for row in cur.execute(sql.rules).fetchall())
        except (ValueError, TypeError) as exc:
            raise StorageUnavailableError(
                f"{self._name}: a stored directory row is unreadable ({str(exc)[:200]}); "
                "the directory is not loaded until it is fixed"
            ) from None
        return StoredDirectory(users, groups, rules, revision)

    def _write(self, cur: _Cursor, writes: DirectoryWrites, expected: int) -> int:
        sql = self._sql
        if cur.execute(sql.bump, (expected,)).rowcount != 1:
            raise DirectoryConflictError(
                "the directory was changed by another process meanwhile; nothing was written"
            )
        users = [*writes.delete_users, *(u.id for u in writes.put_users)]
        groups = [*writes.delete_groups, *(g.id for g in writes.put_groups)]
        self._delete(cur, "directory_users", "id", users)
        self._delete(cur, "directory_members", "user_id", writes.delete_users)
        self._delete(cur, "directory_groups", "id", groups)
        self._delete(cur, "directory_members", "group_id", groups)
        for user in writes.put_users:
            cur.execute(sql.add_user, _user_row(user))
        for group in writes.put_groups:
            cur.execute(sql.add_group, _group_row(group))
            for uid in sorted(group.members):
                cur.execute(sql.add_member, (group.id, uid))
        if writes.rules is not None:
            cur.execute("DELETE FROM directory_rules")
            for position, rule in enumerate(writes.rules):
                cur.execute(sql.add_rule, _rule_row(position, rule))
        return expected + 1

    def _delete(self, cur: _Cursor, table: str, column: str, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cur.execute(self._sql.delete(table, column, len(chunk)), chunk)

    def _tokens(self, cur: _Cursor) -> list[ApiKeyRecord]:
        rows = cur.execute(self._sql.tokens).fetchall()
        try:
            return [_token(row) for row in rows]
        except (ValueError, TypeError) as exc:
            raise StorageUnavailableError(
                f"{self._name}: a stored SCIM token is unreadable ({exc}); it is refused"
            ) from None

    def _add_token(self, cur: _Cursor, record: ApiKeyRecord) -> bool:
        row = (record.key_id, record.name, record.secret_hash, record.created_at,
               record.created_by, None, None)  # fmt: skip
        return bool(cur.execute(self._sql.add_token, row).rowcount == 1)

    def _revoke_tokens(self, cur: _Cursor, at: float, by: str | None, keep: str | None) -> int:
        return int(cur.execute(self._sql.revoke_tokens, (at, by, keep or "")).rowcount)


class SqliteDirectoryStore(SqliteConnection, _DirectorySql):
    """A ``DirectoryStore`` on the SQLite file that also holds the audit log."""

    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SqliteDirectoryStore:
        store = cls(cls._connect(path, busy_timeout), path)
        store._name = f"sqlite:{path}"
        return store


class PostgresDirectoryStore(_DirectorySql, PostgresConnection):
    """A ``DirectoryStore`` on PostgreSQL; a lost connection is reopened on the next call."""

    _sql = _Statements("%s")

    @contextmanager
    def _transaction(self, action: str, *, write: bool = True) -> Iterator[psycopg.Cursor[Any]]:
        with self._using(action) as conn, conn.transaction(), conn.cursor() as cur:
            if not write:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cur
