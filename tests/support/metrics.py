"""Scrape a gateway's ``/metrics`` and read single samples out of it."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["sample", "scrape"]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url + "/metrics", timeout=5)
    response.raise_for_status()
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(url: str, name: str, **labels: str) -> float:
    """The value of one sample (0.0 when the series does not exist yet)."""
    return scrape(url).get((name, frozenset(labels.items())), 0.0)
