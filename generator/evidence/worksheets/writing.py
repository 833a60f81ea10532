"""``controlbook review worksheets``: one file per decider, and the list of unrouted items.

An XLSX worksheet has two sheets. *Review* holds the decider's rows: the item and its
holder (read-only), and the ``decision`` (a list: keep, revoke, modify) and ``comment``
cells, the only ones unlocked on a protected sheet. *About* names the review, the
decider and the extract (with its sha256) the worksheet was issued for. Every row carries
a ``check`` (see :func:`.layout.checksum`), so an edited account or entitlement is found
even when protection has been removed. A CSV worksheet has the same columns, and the
About fields as ``# key: value`` lines above its header.

The same catalog gives the same bytes: the workbook's times are the population's
extraction time and every zip entry is dated 1980-01-01.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from ...diagnostics import FORMULA_STARTS, safe_cell
from ...errors import InputError
from ..xlsxfile import text_cell
from ..xlsxfile import workbook_bytes as xlsx_bytes
from .layout import (
    ABOUT,
    COLUMNS,
    COMMENT,
    DECIDER_KEY,
    DECISION,
    DECISIONS,
    EXTRACT_KEY,
    REVIEW_KEY,
    SHA_KEY,
    SHEET,
    UNROUTED,
)
from .routing import Routed, Routing

_WIDTHS = {"system": 10, "account": 18, "person": 14, "name": 20, "department": 24,
           "status": 14, "account_type": 12, "entitlement": 28, "routed": 30, "source": 30,
           "check": 18, "decision": 10, "comment": 40}  # fmt: skip


@dataclass(frozen=True)
class Issued:
    """What ``worksheets`` wrote: file name -> rows, and the unrouted items."""

    files: tuple[tuple[str, int], ...]
    unrouted: tuple[Routed, ...]


def file_name(routing: Routing, decider: str, fmt: str) -> str:
    return f"{routing.review.id}-{decider}.{fmt}"


def about(routing: Routing, decider: str) -> list[tuple[str, str]]:
    """The About fields: the four collect reads, then what a reader needs to know."""
    review = routing.review
    return [
        (REVIEW_KEY, review.id),
        (DECIDER_KEY, decider),
        (EXTRACT_KEY, routing.extract_file),
        (SHA_KEY, routing.extract_sha256),
        ("control", routing.control.id),
        ("population", f"{routing.population.id}: {routing.population.name}"),
        ("period", str(review.period)),
        (
            "approval rule",
            str(routing.control.approval.approver if routing.control.approval else ""),
        ),
        ("routed on", routing.day.isoformat()),
        ("rows", str(len(routing.of(decider)))),
        (
            "instructions",
            "Decide each row: keep, revoke or modify; a revoke or modify needs a comment "
            "(what to remove or change, and why). Change nothing else: rows are checked.",
        ),
    ]


def cells(routed: Routed, review_id: str) -> list[str]:
    item = routed.item
    return [
        item.system, item.account, item.person, item.name, item.department, item.status,
        item.account_type, item.entitlement, routed.why, item.source, item.check(review_id),
        "", "",
    ]  # fmt: skip


def _moment(routing: Routing) -> datetime:
    evidence = routing.review.evidence
    at = evidence.extracted_at if evidence is not None else None
    if at is None:
        return datetime(routing.day.year, routing.day.month, routing.day.day)
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def workbook_bytes(routing: Routing, decider: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="EEEEEE")
    for column, name in enumerate(COLUMNS, start=1):
        text_cell(sheet, 1, column, name)
        sheet.cell(row=1, column=column).font = bold
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = _WIDTHS[
            name
        ]
    rows = routing.of(decider)
    editable = {COLUMNS.index(DECISION) + 1, COLUMNS.index(COMMENT) + 1}
    for number, routed in enumerate(rows, start=2):
        for column, value in enumerate(cells(routed, routing.review.id), start=1):
            text_cell(sheet, number, column, value)
            cell = sheet.cell(row=number, column=column)
            if column in editable:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = grey
    last = len(rows) + 1
    letter = sheet.cell(row=1, column=COLUMNS.index(DECISION) + 1).column_letter
    listed = DataValidation(
        type="list",
        formula1='"' + ",".join(DECISIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Decision",
        error="Choose keep, revoke or modify.",
    )
    if rows:
        listed.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(listed)
    sheet.freeze_panes = "A2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widening a column is fine
    info = book.create_sheet(ABOUT)
    for number, (key, value) in enumerate(about(routing, decider), start=1):
        text_cell(info, number, 1, key)
        text_cell(info, number, 2, value)
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 90
    info.protection.sheet = True
    moment = _moment(routing)
    props = book.properties
    props.creator = "controlbook"
    props.lastModifiedBy = "controlbook"
    props.title = f"Access review {routing.review.id}: worksheet of {decider}"
    props.subject = routing.review.id
    props.identifier = f"{routing.review.id}/{decider}"
    return xlsx_bytes(book, moment)


def csv_bytes(routing: Routing, decider: str) -> bytes:
    out = io.StringIO()
    for key, value in about(routing, decider):
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for routed in routing.of(decider):
        writer.writerow([safe_cell(c) for c in cells(routed, routing.review.id)])
    return out.getvalue().encode("utf-8")


def unrouted_bytes(routing: Routing) -> bytes:
    """The items nobody can decide, with why: for the control owner, not to be returned."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("system", "account", "person", "status", "account_type", "entitlement",
                     "why", "source"))  # fmt: skip
    for routed in routing.unrouted:
        item = routed.item
        row = (item.system, item.account, item.person, item.status, item.account_type,
               item.entitlement, routed.why, item.source)  # fmt: skip
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue().encode("utf-8")


def unsafe(text: str) -> str:
    """What :func:`safe_cell` was given (the reader's inverse)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def write_worksheets(routing: Routing, out: Path, fmt: str) -> Issued:
    """Write every decider's worksheet (and ``_unrouted.csv`` when some item has no decider)
    into ``out``: each under a temporary name first, then renamed."""
    files: list[tuple[str, bytes, int]] = []
    for decider in routing.deciders:
        data = workbook_bytes(routing, decider) if fmt == "xlsx" else csv_bytes(routing, decider)
        files.append((file_name(routing, decider, fmt), data, len(routing.of(decider))))
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if routing.unrouted:
        files.append((UNROUTED, unrouted_bytes(routing), len(routing.unrouted)))
    elif (out / UNROUTED).exists():
        (out / UNROUTED).unlink()  # from an earlier run: it would list items now routed
    temps = []
    try:
        for name, data, _ in files:
            temp = out / f".{name}.tmp"
            temp.write_bytes(data)
            temps.append((temp, out / name))
        for temp, target in temps:
            os.replace(temp, target)
    finally:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
    return Issued(
        tuple((name, rows) for name, _, rows in files if name != UNROUTED),
        tuple(routing.unrouted),
    )
