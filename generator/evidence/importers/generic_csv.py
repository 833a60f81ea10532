"""``csv``: any CSV export (an ERP query, a saved search, a SaaS admin download) with a
small YAML mapping saying which column is what (``--mapping FILE``, required)::

    source: SAP query ZSOX_USER_ROLES (USR02 x AGR_USERS x ADR6), client 100
    delimiter: ";"
    encoding: utf-8-sig          # or cp1252 for a spreadsheet saved on Windows
    header_line: 3               # lines above the header (titles) are skipped
    columns:
      account: BNAME
      person: {column: SMTP_ADDR, match: '(.+)@nwcomponents\\.example'}
      account_type: {column: USTYP, values: {A: employee, S: service, B: service}}
      entitlement: AGR_NAME
    only_rows: {UFLAG: ["0"]}     # other rows are left out (here: locked users)
    account_types: {FF_BASIS_01: break-glass}
    people: {}

A column is a header name, or ``{column, match, values}``: ``match`` is a regular
expression the whole value must match (its first group, if any, is kept; a value it does
not match is kept as it is), ``values`` maps what remains (unmapped values pass through).
``{value: X}`` is a constant instead of a column (e.g. ``account_type: {value: employee}``).
``system`` names a system column for one export over several systems (``--system`` given
once for each).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from ...diagnostics import Location
from ...model import AccountType
from ...model.base import Record
from .core import (
    AccountMapping,
    Importer,
    ImportFormatError,
    Parsed,
    Row,
    decode,
    numbered,
)

_TYPES = {t.value for t in AccountType}


class Column(Record):
    """Where one extract column comes from."""

    column: str | None = Field(default=None, description="Header name of the source column.")
    value: str | None = Field(default=None, description="A constant instead of a column.")
    match: str | None = Field(
        default=None,
        description="Regular expression the whole value must match; its first group is kept.",
    )
    values: dict[str, str] = Field(
        default_factory=dict, description="Value map, applied after match."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> Column:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either column (a header name) or value (a constant)")
        return self

    @field_validator("match")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"match {pattern!r} is not a regular expression ({exc})") from None
        return pattern

    def resolve(self, record: dict[str, str]) -> str:
        raw = self.value if self.value is not None else record[self.column or ""]
        value = raw.strip()
        if self.match is not None:
            found = re.fullmatch(self.match, value)
            if found:
                value = (found.group(1) or "") if found.re.groups else found.group(0)
        if self.values:
            if value in self.values:
                return self.values[value]
            lowered = {k.lower(): v for k, v in self.values.items()}
            return lowered.get(value.lower(), value)
        return value


class CsvColumns(Record):
    account: Column = Field(description="The account (login) column.")
    person: Column | None = Field(default=None, description="The directory person ID.")
    account_type: Column = Field(description="Account type column, or a constant.")
    entitlement: Column | None = Field(default=None, description="Role, group or permission.")
    system: Column | None = Field(
        default=None, description="System column, for one export over several systems."
    )


class CsvMapping(AccountMapping):
    """The mapping of the ``csv`` importer (``--mapping``)."""

    columns: CsvColumns = Field(description="Where each extract column comes from.")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = Field(default="utf-8-sig", description="Text encoding of the export.")
    header_line: int = Field(default=1, ge=1, le=1000, description="Line of the header.")
    only_rows: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column -> the values a row must have to be kept (others are left out).",
    )


class CsvImporter(Importer):
    name = "csv"
    version = 1
    title = "CSV export"
    docs = ("https://docs.python.org/3/library/csv.html",)
    mapping_model = CsvMapping
    mapping_required = True
    several_systems = True

    def suffix(self, raw: bytes) -> str:
        return ".csv"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        assert isinstance(mapping, CsvMapping)
        text = decode(raw, shown, mapping.encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
        header: list[str] | None = None
        records = numbered(reader, shown)
        for line, values in records:
            if line >= mapping.header_line:
                header = [h.strip() for h in values]
                header_at = line
                break
        if header is None:
            raise ImportFormatError(
                Location(shown, 1, 1), f"no header: the file ends before line {mapping.header_line}"
            )
        _check_columns(mapping, header, Location(shown, header_at, 1))
        rows: list[Row] = []
        skipped = 0
        overrides = {k.strip().lower() for k in mapping.account_types}
        columns = mapping.columns
        for line, values in records:
            if not values or all(not v.strip() for v in values):
                continue
            where = Location(shown, line, 1)
            if len(values) != len(header):
                raise ImportFormatError(
                    where,
                    f"expected {len(header)} fields, got {len(values)} (delimiter "
                    f"{mapping.delimiter!r})",
                )
            record = dict(zip(header, values, strict=True))
            if any(record[c].strip() not in keep for c, keep in mapping.only_rows.items()):
                skipped += 1
                continue
            account = columns.account.resolve(record)
            if not account:
                raise ImportFormatError(where, f"no account (column {columns.account.column!r})")
            kind = columns.account_type.resolve(record).strip().lower()
            if kind not in _TYPES:
                if account.lower() not in overrides:
                    raise ImportFormatError(
                        where,
                        f"account type {kind!r} of {account!r} is none of "
                        f"{', '.join(sorted(_TYPES))}; map it under "
                        "columns.account_type.values (or the account under account_types)",
                    )
                kind = AccountType.EMPLOYEE.value  # replaced by the mapping's account_types
            rows.append(
                Row(
                    account,
                    columns.person.resolve(record) if columns.person else "",
                    AccountType(kind),
                    columns.entitlement.resolve(record) if columns.entitlement else "",
                    where,
                    system=columns.system.resolve(record) if columns.system else "",
                )
            )
        notes = [f"{skipped} row(s) left out by only_rows"] if skipped else []
        return Parsed(rows, notes=notes)


def _check_columns(mapping: CsvMapping, header: list[str], where: Location) -> None:
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    named: dict[str, str] = {}
    for key in ("account", "person", "account_type", "entitlement", "system"):
        column = getattr(mapping.columns, key)
        if column is not None and column.column is not None:
            named[f"columns.{key}"] = column.column
    named.update({f"only_rows.{c}": c for c in mapping.only_rows})
    for key, column in named.items():
        if column not in header:
            raise ImportFormatError(
                where,
                f"column {column!r} (mapping {key}) is not in the header "
                f"({', '.join(repr(h) for h in header[:8])}{'…' if len(header) > 8 else ''})",
            )
        if column in duplicated:
            raise ImportFormatError(where, f"column {column!r} appears twice in the header")
