"""The tamper-evident audit log (SPEC C8).

Records are canonical JSON in a SHA-256 hash chain (``records``, ``chain``)
with Ed25519-signed checkpoints kept inside and outside the database
(``checkpoints``, ``checkpoint_writer``); ``screening`` keeps secrets out,
``events`` builds the gateway's decision events, ``sampling`` says what may
be sampled, ``export`` formats for a SIEM and ``verification`` checks a whole
store. ``service.AuditLog`` is the one object the gateway writes through:
durable and fail-closed for privileged events, queued and never-blocking for
ordinary traffic. Only ``service``, ``checkpoint_writer`` and ``verification``
touch I/O, and only through the ports.
"""
