"""Summaries of many plain extracts at once, in DuckDB: one parallel scan, no rows in Python.

A *plain* extract has no quote character, NUL byte, lone carriage return or mix of CRLF
and LF line ends (machine exports are). For such a file every physical line is one row
and a field is the text between two commas, so DuckDB's reader (quotes off, strict) and
Python's ``csv`` module read it the same way: DuckDB either agrees or fails, and a file it fails on (or whose
account has two different people behind it, where row order decides) is left to the
exact Python reader. Values are stripped of whitespace like :meth:`str.strip` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb

from ..model import EXTRACT_COLUMNS, SYSTEM_COLUMN

_COLUMNS = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in EXTRACT_COLUMNS) + "}"
_SHARED_COLUMNS = (
    "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in (SYSTEM_COLUMN, *EXTRACT_COLUMNS)) + "}"
)
_LINE_LIMIT = 131072
"""Python's ``csv`` refuses longer fields; longer lines go to the Python reader."""
_ASCII_SPACE = "' \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f'"
_UNICODE_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f\x85\p{Z}]"


def norm(value: str | None) -> str:
    """How extract values compare everywhere (accounts, people, entitlements, account
    types): surrounding whitespace and letter case do not count, so ``' U.Brandt'`` is
    ``u.brandt``. The SQL counterpart is :func:`norm_sql`."""
    return (value or "").strip().lower()


def norm_sql(column: str) -> str:
    """SQL for :func:`norm` of a column."""
    return f"lower({strip_sql(column)})"


@dataclass(frozen=True)
class ExtractSummary:
    """What the rules ask of one extract, without keeping its rows.

    ``holders`` maps each account to the person behind it (its last non-empty
    ``person`` value); ``by_type`` maps each account type to the accounts with a row
    of that type.
    """

    rows: int
    holders: dict[str, str]
    by_type: dict[str, frozenset[str]]

    @cached_property
    def accounts(self) -> frozenset[str]:
        """Every account in the extract."""
        return frozenset().union(*self.by_type.values())

    @cached_property
    def normalised(self) -> dict[str, str]:
        """:func:`norm` of each account -> the account as written."""
        return {norm(account): account for account in sorted(self.accounts)}

    @cached_property
    def types_of(self) -> dict[str, frozenset[str]]:
        """:func:`norm` of each account -> the account types it has rows of."""
        keys = {t: frozenset(map(norm, accounts)) for t, accounts in self.by_type.items()}
        seen: set[str] = set()
        several: set[str] = set()  # accounts with rows of more than one type (rare)
        for these in keys.values():
            several |= seen & these
            seen |= these
        found: dict[str, frozenset[str]] = {}
        for account_type, these in keys.items():  # one shared set per type: a million accounts
            found.update(dict.fromkeys(these - several, frozenset((account_type,))))
        for account in several:
            found[account] = frozenset(t for t, these in keys.items() if account in these)
        return found

    def forget_indexes(self) -> None:
        """Free :attr:`accounts`, :attr:`normalised` and :attr:`types_of` (built again
        when asked): a million accounts at enterprise size, which only the rules read."""
        for name in ("accounts", "normalised", "types_of"):
            self.__dict__.pop(name, None)

    def has(self, account: str) -> bool:
        """Whether ``account`` is in the extract, compared as :func:`norm` does."""
        return norm(account) in self.normalised


def strip_sql(column: str) -> str:
    """SQL for ``str.strip()`` of a column (the regex only runs on non-ASCII values). An
    ASCII value that starts and ends with a character above space has nothing to strip
    and is kept as it is: ``trim`` with a list of characters costs four times as much,
    on every row of millions."""
    value = f"coalesce({column}, '')"
    return (
        f"CASE WHEN strlen({value}) = length({value}) AND ascii({value}) > 32 "
        f"AND ascii(right({value}, 1)) > 32 THEN {value} "
        f"WHEN strlen({value}) <> length({value}) "
        f"THEN regexp_replace({value}, '^{_UNICODE_SPACE}+|{_UNICODE_SPACE}+$', '', 'g') "
        f"ELSE trim({value}, {_ASCII_SPACE}) END"
    )


@dataclass(frozen=True)
class PlainFile:
    """A plain extract on disk, and what DuckDB must be told to read it."""

    path: Path
    shared: bool = False
    """It starts with a system column (one extract over several systems)."""
    crlf: bool = False
    """Its lines end in CRLF (else in LF)."""


def read_plain(files: Iterable[PlainFile]) -> str:
    """SQL reading plain extracts as Python's ``csv`` does, with the columns ``system``
    (NULL but in a shared extract), the extract columns and ``filename``.

    Files of one dialect (line end, system column) are one multi-file ``read_csv``, which
    DuckDB scans in parallel; a read takes one set of options for all its files, and a
    CRLF file read as LF (or the other way round) would silently give no rows, so each
    dialect has a read of its own."""
    groups: dict[tuple[bool, bool], list[Path]] = {}
    for file in files:
        groups.setdefault((file.shared, file.crlf), []).append(file.path)
    if not groups:
        raise ValueError("no files to read")
    return " UNION ALL ".join(
        _read_csv(paths, shared, crlf) for (shared, crlf), paths in sorted(groups.items())
    )


def _read_csv(paths: list[Path], shared: bool, crlf: bool) -> str:
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    columns, system = (_SHARED_COLUMNS, "") if shared else (_COLUMNS, "NULL::VARCHAR AS system, ")
    newline = r"\r\n" if crlf else r"\n"
    return (
        f"SELECT {system}* FROM read_csv([{quoted}], header = true, columns = {columns}, "
        f"filename = true, auto_detect = false, delim = ',', quote = '', escape = '', "
        f"new_line = '{newline}', max_line_size = {_LINE_LIMIT})"
    )


def _stripped(files: Iterable[PlainFile]) -> str:
    """SQL for the files' distinct (file, account type, account, person) with their row
    counts: the raw rows are grouped first (cheap), then the far fewer distinct values are
    stripped. In a shared extract an account is named ``system/account`` (see
    ``AccessRow.key``)."""
    account = (
        f"CASE WHEN system IS NULL THEN {strip_sql('account')} "
        f"ELSE {strip_sql('system')} || '/' || {strip_sql('account')} END"
    )
    return f"""
        WITH raw AS (
            SELECT filename, system, account_type, account, person, count(*) AS n
            FROM ({read_plain(files)})
            GROUP BY ALL
        )
        SELECT filename, {strip_sql("account_type")} AS account_type,
               {account} AS account, nullif({strip_sql("person")}, '') AS person, n
        FROM raw
    """


_BY_TYPE = """
    SELECT filename, account_type, list(DISTINCT account), sum(n)::BIGINT
    FROM stripped GROUP BY ALL ORDER BY ALL
"""
"""Each file's accounts of each type, and its rows."""
_HOLDERS = """
    SELECT filename, list(account ORDER BY account), list(person ORDER BY account),
           max(people)
    FROM (
        SELECT filename, account, max(person) AS person, count(DISTINCT person) AS people
        FROM stripped WHERE person IS NOT NULL GROUP BY ALL
    )
    GROUP BY ALL
"""
"""Each file's accounts with a person, that person, and the most people one account has
(with two, the file's last row decides: only the Python reader knows it)."""


def summarise(files: dict[str, PlainFile]) -> dict[str, ExtractSummary | None]:
    """Summaries of plain extracts (catalog path -> file); ``None`` for a file that the
    exact Python reader must read instead. The values come back as one list per file and
    account type, never as a Python loop over millions of rows."""
    if not files:
        return {}
    db = duckdb.connect()
    try:
        try:
            db.execute(f"CREATE TEMP TABLE stripped AS {_stripped(files.values())}")
            by_type = db.execute(_BY_TYPE).fetchall()
            people = db.execute(_HOLDERS).fetchall()
        except duckdb.Error:
            if len(files) == 1:
                return dict.fromkeys(files)
            out: dict[str, ExtractSummary | None] = {}
            for rel, file in files.items():  # find the file(s) DuckDB cannot read
                out.update(summarise({rel: file}))
            return out
    finally:
        db.close()
    by_path = {str(file.path): rel for rel, file in files.items()}
    counts = dict.fromkeys(files, 0)
    types: dict[str, dict[str, frozenset[str]]] = {rel: {} for rel in files}
    for filename, account_type, accounts, rows in by_type:
        rel = by_path[filename]
        counts[rel] += rows
        types[rel][account_type] = frozenset(accounts)
    holders: dict[str, dict[str, str] | None] = {rel: {} for rel in files}
    for filename, accounts, persons, most in people:
        holders[by_path[filename]] = dict(zip(accounts, persons, strict=True)) if most < 2 else None
    return {
        rel: None
        if (held := holders[rel]) is None
        else ExtractSummary(counts[rel], held, types[rel])
        for rel in files
    }
