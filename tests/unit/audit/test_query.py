"""audit.query: an impossible page is a ValueError at construction."""

from __future__ import annotations

from typing import Any

import pytest

from glassgate.audit.query import MAX_PAGE, AuditQuery


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"limit": 0}, "between 1 and", id="case=empty-page"),
        pytest.param({"limit": MAX_PAGE + 1}, "between 1 and", id="case=page-too-large"),
        pytest.param({"after_seq": -1}, "negative", id="case=negative-cursor"),
    ],
)
def test_queries_refuse_impossible_pages(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AuditQuery(**fields)


def test_the_page_bounds_themselves_are_fine() -> None:
    assert AuditQuery(limit=1).limit == 1
    assert AuditQuery(limit=MAX_PAGE, after_seq=0).limit == MAX_PAGE
