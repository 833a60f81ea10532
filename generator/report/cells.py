"""Spreadsheet-safe cells for every CSV Controlbook writes (see :func:`safe_cell`)."""

from __future__ import annotations

from ..diagnostics import FORMULA_STARTS, safe_cell

__all__ = ["FORMULA_STARTS", "safe_cell"]
