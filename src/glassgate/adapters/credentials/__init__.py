"""Credential checks for local identities: argon2id passwords and WebAuthn ceremonies.

Third-party libraries (argon2-cffi, py_webauthn) and their exceptions stay in
here; callers get glassgate values or ``AuthenticationFailedError``.
"""
