"""Findings as CSV for spreadsheets: one row per finding, every text cell formula-safe."""

from __future__ import annotations

import csv
import io

from ..evaluation.evaluate import Evaluation
from .cells import safe_cell

COLUMNS = (
    "rule", "severity", "status", "control", "subject", "message", "hint", "file", "line",
    "column", "waiver",
)  # fmt: skip


def render(evaluation: Evaluation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in evaluation.findings:
        loc = f.location
        row = (
            f.rule, f.severity, f.status, f.control or "", f.subject, f.message, f.hint,
            loc.file, loc.line, loc.column, f.waiver.id if f.waiver else "",
        )  # fmt: skip
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
