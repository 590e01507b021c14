"""The quota counters (``QuotaStore``): memory (one process) and Redis (shared).

Both run ``core.quota.gcra``'s arithmetic (Redis as a Lua copy of it, atomically).
"""
