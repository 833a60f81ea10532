"""Who holds what right now: catalog-wide questions over the current extracts, in DuckDB.

The current extract of each system (the newest taken on or before the as-of date)
is read by DuckDB straight from the CSV files, joined with the SoD rule sets and the
directory. Millions of entitlement rows are one join, never a Python loop per pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import duckdb

from ..model import EXTRACT_COLUMNS, Catalog
from .extracts import ExtractError, ExtractStore, SystemExtract


@dataclass(frozen=True)
class Holding:
    """Evidence that a person holds a duty: the extract row that grants it."""

    file: str
    account: str
    entitlement: str


@dataclass(frozen=True)
class HeldConflict:
    """A person holding both duties of a conflict in the current extracts."""

    person: str
    ruleset: str
    duties: tuple[str, str]
    first: Holding
    second: Holding


@dataclass(frozen=True)
class LeaverAccess:
    """A person who has left but still holds accounts in a system's current extract."""

    person: str
    left: date
    system: str
    file: str
    accounts: tuple[str, ...]


def _sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of strings (views cannot take prepared parameters)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


class AccessIndex:
    """Catalog-wide access questions, answered with SQL over the current extracts."""

    def __init__(self, catalog: Catalog, extracts: ExtractStore, current: list[SystemExtract]):
        self.catalog = catalog
        self.extracts = extracts
        self.current = [e for e in current if extracts.path(e.file) is not None]
        self.db = duckdb.connect()
        self._load()

    def _load(self) -> None:
        db = self.db
        db.execute("CREATE TABLE files(path VARCHAR, rel VARCHAR, system VARCHAR)")
        for extract in self.current:
            self._check_header(extract.file)
            path = self.extracts.path(extract.file)
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?)", [str(path), extract.file, extract.system]
            )
        db.execute(
            "CREATE TABLE grants(ruleset VARCHAR, duty VARCHAR, system VARCHAR, entitlement VARCHAR)"
        )
        db.execute("CREATE TABLE conflicts(ruleset VARCHAR, a VARCHAR, b VARCHAR)")
        grants = [
            (rs.id, duty.id, g.system, g.entitlement)
            for rs in self.catalog.rulesets.values()
            for duty in rs.duties
            for g in duty.grants
        ]
        pairs = [
            (rs.id, *sorted(c.duties))
            for rs in self.catalog.rulesets.values()
            for c in rs.conflicts
        ]
        if grants:
            db.executemany("INSERT INTO grants VALUES (?, ?, ?, ?)", grants)
        if pairs:
            db.executemany("INSERT INTO conflicts VALUES (?, ?, ?)", pairs)
        if self.current:
            columns = ", ".join(f"'{c}': 'VARCHAR'" for c in EXTRACT_COLUMNS)
            db.execute(
                f"""
                CREATE VIEW access AS
                SELECT f.system, f.rel AS file, r.account, r.person, r.account_type, r.entitlement
                FROM read_csv({_sql_list(str(self.extracts.path(e.file)) for e in self.current)},
                              header = true, columns = {{{columns}}}, filename = true,
                              quote = '"', escape = '"') r
                JOIN files f ON f.path = r.filename
                """
            )
        else:
            db.execute(
                "CREATE VIEW access AS SELECT NULL::VARCHAR system, NULL::VARCHAR file, NULL::VARCHAR account, "
                "NULL::VARCHAR person, NULL::VARCHAR account_type, NULL::VARCHAR entitlement WHERE false"
            )

    def _check_header(self, rel: str) -> None:
        path = self.extracts.path(rel)
        assert path is not None
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header = tuple(h.strip() for h in handle.readline().rstrip("\r\n").split(","))
        if header != EXTRACT_COLUMNS:
            shown = self.catalog.display_path(rel)
            raise ExtractError(
                f"{shown}:1:1: extract header must be '{','.join(EXTRACT_COLUMNS)}' "
                f"(got {','.join(header)!r})"
            )

    @cached_property
    def conflicts(self) -> list[HeldConflict]:
        """Every person holding both duties of a conflict, with one granting row each."""
        rows = self.db.execute(
            """
            WITH held AS (
                SELECT a.person, g.ruleset, g.duty,
                       min((a.file, a.account, a.entitlement)) AS via
                FROM access a
                JOIN grants g ON g.system = a.system AND g.entitlement = a.entitlement
                WHERE coalesce(a.person, '') <> ''
                GROUP BY ALL
            )
            SELECT h1.person, c.ruleset, c.a, c.b, h1.via, h2.via
            FROM conflicts c
            JOIN held h1 ON h1.ruleset = c.ruleset AND h1.duty = c.a
            JOIN held h2 ON h2.ruleset = c.ruleset AND h2.duty = c.b AND h2.person = h1.person
            ORDER BY 1, 2, 3, 4
            """
        ).fetchall()
        return [
            HeldConflict(person, ruleset, (a, b), Holding(*first), Holding(*second))
            for person, ruleset, a, b, first, second in rows
        ]

    @cached_property
    def holdings(self) -> list[tuple[str, str, str]]:
        """(person, rule set, duty) for every duty a person holds in the current extracts."""
        return [
            tuple(row)  # type: ignore[misc]
            for row in self.db.execute(
                """
                SELECT DISTINCT a.person, g.ruleset, g.duty
                FROM access a JOIN grants g ON g.system = a.system AND g.entitlement = a.entitlement
                WHERE coalesce(a.person, '') <> ''
                ORDER BY 1, 2, 3
                """
            ).fetchall()
        ]

    def leavers(self, as_of: date) -> list[LeaverAccess]:
        """People whose employment ended before a system's current extract yet hold accounts in it."""
        left = [
            (p.id, p.employed_until)
            for p in self.catalog.people.values()
            if p.employed_until is not None and p.employed_until < as_of
        ]
        if not left:
            return []
        self.db.execute("CREATE OR REPLACE TEMP TABLE leavers(person VARCHAR, left_on DATE)")
        self.db.executemany("INSERT INTO leavers VALUES (?, ?)", left)
        taken = {e.file: e.extracted_at for e in self.current}
        rows = self.db.execute(
            """
            SELECT l.person, l.left_on, a.system, a.file, list(DISTINCT a.account ORDER BY a.account)
            FROM access a JOIN leavers l ON l.person = a.person
            GROUP BY ALL ORDER BY 1, 3
            """
        ).fetchall()
        return [
            LeaverAccess(person, left_on, system, file, tuple(accounts))
            for person, left_on, system, file, accounts in rows
            if taken[file] is not None and taken[file].date() > left_on
        ]
