"""Storage adapters, one package per port; the modules beside them are shared.

- ``audit/``     ``AuditStore`` and ``CheckpointLog``: SQLite (default), PostgreSQL,
                 memory, and the append-only checkpoint file with its signing key.
- ``api_keys/``  ``ApiKeyStore``: SQLite and PostgreSQL (one SQL), memory.
- ``quotas/``    ``QuotaStore``: memory (one process), Redis (shared counters).

Shared: ``target`` (which database), ``_connection`` (one connection per store,
behind a lock, reopened when lost), ``_errors`` (driver errors become
``StorageUnavailableError``), ``revision``/``migrate``/``migrations`` (Alembic).
A new port's stores (break-glass accounts, grants, the directory) get their own
package here, open through an ``open_<port>_store(target, migrate=...)`` in its
``__init__`` (a call to ``_open.open_store``), and a contract suite in
``tests/contract/``. Store calls are blocking; async callers run them through a
``glassgate.store_runner.StoreRunner``.
"""
