"""CSV written for spreadsheets: cells that would run as formulas are neutralised.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is prefixed with ``'`` (OWASP, CSV injection): user names and attributes come
from outside and must never execute in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["csv_cell", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
