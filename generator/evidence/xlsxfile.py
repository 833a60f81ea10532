"""XLSX files that rebuild byte for byte: text cells that are never formulas, the
workbook's own times set by the caller, and every zip entry dated 1980-01-01.

openpyxl's ``Workbook.save`` stamps "modified" with the current time and :mod:`zipfile`
dates each entry now; both are fixed here, so the same inputs give the same file (a
reviewer worksheet, an audit sample's workpaper).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def text_cell(sheet: Worksheet, row: int, column: int, value: str) -> None:
    """A cell holding ``value`` as text: ``=1+1`` stays text here, never a formula."""
    cell = sheet.cell(row=row, column=column, value=value)
    cell.data_type = "s"


def workbook_bytes(book: Workbook, moment: datetime) -> bytes:
    """The workbook as XLSX bytes, created and modified at ``moment`` (naive UTC)."""
    book.properties.created = moment
    book.properties.modified = moment
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()  # not Workbook.save(): it stamps "modified" now
    return _fixed_dates(raw.getvalue())


def _fixed_dates(data: bytes) -> bytes:
    """The same archive with every entry dated :data:`ZIP_DATE` (zipfile stamps now)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(entry))
    return out.getvalue()
