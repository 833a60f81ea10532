"""An audit sample as text (how it was drawn, then the items), or as a test workpaper in
CSV or XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from ..evaluation.sampling import ATTRIBUTES, Sample, SampledItem
from ..evidence.xlsxfile import text_cell, workbook_bytes
from .cells import safe_cell

COLUMNS = (
    "rank", "review", "account", "entitlement", "decision", "decided_by", "decided_at",
    *ATTRIBUTES, "source", "sha256(seed+key)", "key",
)  # fmt: skip


def header(sample: Sample) -> list[str]:
    """How the sample was drawn, so anyone can draw it again."""
    return [
        f"control: {sample.control}",
        f"period: {sample.period}",
        f"population: {sample.population_size} review items, sha256 {sample.population_sha256} "
        "(keys sorted, one per line)",
        f"seed: {sample.seed}",
        f"method: {sample.method}",
        f"sample: {sample.size} item(s)",
    ]


def render_text(sample: Sample) -> str:
    lines = [*header(sample), ""]
    for item in sample.items:
        what = item.account + (f" ({item.entitlement})" if item.entitlement else "")
        lines.append(
            f"{item.rank:>3}. {item.review} {what}: {item.decision or 'no decision'} by "
            f"{item.decided_by or 'nobody'} at {item.decided_at or 'no date'}  [{item.source}]"
        )
        for attribute, result in item.attributes:
            lines.append(f"       {attribute}: {result}")
    return "\n".join(lines) + "\n"


def _row(item: SampledItem) -> tuple[object, ...]:
    return (
        item.rank, item.review, item.account, item.entitlement, item.decision,
        item.decided_by, item.decided_at, *(result for _, result in item.attributes),
        str(item.source), item.digest, item.key,
    )  # fmt: skip


def render_csv(sample: Sample) -> str:
    """The test workpaper: one row per sampled item, pre-filled from the evaluation, every
    cell formula-safe; the drawing method in ``#`` lines above the header."""
    out = io.StringIO()
    for line in header(sample):
        out.write(f"# {line}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in sample.items:
        writer.writerow([safe_cell(cell) for cell in _row(item)])
    return out.getvalue()


def render_xlsx(sample: Sample, as_of: date) -> bytes:
    """The test workpaper as a workbook: the drawing method in the first rows, then one row
    per sampled item with a column for the auditor's conclusion; every cell is text (a
    value never runs as a formula) and the same sample gives the same bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sample"
    lines = header(sample)
    for number, line in enumerate(lines, start=1):
        text_cell(sheet, number, 1, line)
    first = len(lines) + 2
    columns = (*COLUMNS, "auditor conclusion")
    bold = Font(bold=True)
    for column, name in enumerate(columns, start=1):
        text_cell(sheet, first, column, name)
        sheet.cell(row=first, column=column).font = bold
    for number, item in enumerate(sample.items, start=first + 1):
        for column, value in enumerate(_row(item), start=1):
            text_cell(sheet, number, column, str(value))
    sheet.freeze_panes = sheet.cell(row=first + 1, column=1)
    props = book.properties
    props.creator = "controlbook"
    props.lastModifiedBy = "controlbook"
    props.title = f"Audit sample of {sample.control}, {sample.period}"
    props.subject = sample.control
    return workbook_bytes(book, datetime(as_of.year, as_of.month, as_of.day))
