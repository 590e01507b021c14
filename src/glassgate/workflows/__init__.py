"""Workflows: multi-step administrative actions that must be audited before they happen.

Each workflow is a small service over ports (a store, the audit log, a clock):
it builds the change with pure code, writes the privileged audit record
durably, and only then saves the change, failing closed when the audit log
cannot be written (ARCHITECTURE 8.3, rule 6). ``api_keys`` manages machine
API keys; break-glass and just-in-time grants belong here too.
"""
