"""Cells of the CSV files the product writes and reads back: no spreadsheet formulas.

OWASP's rule against CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return is a formula to a spreadsheet (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``),
so every CSV the product writes puts a ``'`` before it: the spreadsheet shows it as text.
Reading a CSV back takes that ``'`` off again, so an export imports as the same list.
A cell already starting with ``'`` and then one of those characters gets one more ``'``, so
reading it back gives exactly what was written.
"""
from __future__ import annotations

#: what makes a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(cell: str) -> bool:
    """Whether ``cell`` starts, after any ``'``, with a formula character."""
    return cell.lstrip("'").startswith(FORMULA_STARTS)


def neutralise(cell: str) -> str:
    """The cell as written to a CSV file: a ``'`` before anything a spreadsheet would run."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) or (cell.startswith("'") and _guarded(cell)) else cell


def restore(cell: str) -> str:
    """A cell read from a CSV file: what :func:`neutralise` was given."""
    return cell[1:] if cell.startswith("'") and _guarded(cell) else cell
