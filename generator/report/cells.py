"""Spreadsheet-safe cells for every CSV Controlbook writes."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text that a spreadsheet will not run as a formula (``=HYPERLINK(...)`` gets a ``'``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
