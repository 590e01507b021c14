"""Observability: Prometheus metrics, the per-request access/decision log, JSON logging.

One ``Observability`` per process is both a ``DecisionSink`` (it sits in
``Runtime.sinks``, so both front doors report through it) and the ASGI wrapper
that times requests, serves ``/metrics`` to allow-listed clients and writes one
JSON line per request. Label values are bounded (route ids, reason constants,
tier and issuer ids from the config); subjects, paths and tokens never become
labels, and no token, Authorization header or cookie is ever logged.
"""

from __future__ import annotations

from glassgate.adapters.observability.log_format import JsonFormatter, configure_logging
from glassgate.adapters.observability.observer import Observability

__all__ = ["JsonFormatter", "Observability", "configure_logging"]
