"""The composition root: the one place where config becomes running services.

- ``runtime``  what lives as long as the process (signer, quota counters, sinks,
               the audit log, the clock, how IdP authenticators are made);
- ``state``    what is built from one config, and reload by swap;
- ``compose``  the wiring: the audit log, observability, the gateway app, the
               admin services;
- ``server``   the uvicorn configuration and the listeners, in one event loop.

The CLI (``serve``, ``apikey``), the demo, the benchmark and the test harness
call ``compose`` and ``server``; adapters never import this package (they
take the structural views in ``glassgate.ports``).
"""
