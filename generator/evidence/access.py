"""Who holds what at the as-of date: catalog-wide questions over the state of each system.

The state of a system is the newest ``accounts`` extract of each account type it has
(:meth:`.extracts.ExtractStore.state`): a full snapshot, a privileged slice, a PAM vault's
break-glass accounts, taken together, each contributing only the account types it is the
newest for. DuckDB reads those files (one ``read_csv`` each, so every file keeps its own
dialect), joins them with the SoD rule sets and the directory, and answers in SQL:
millions of entitlement rows are one join, never a Python loop per pair.

Values compare as :func:`.extractscan.norm` makes them (whitespace around and letter case
do not count); a person value is matched to the directory the same way, and one that
matches nobody is an orphan account. Every file must give exactly the rows the reference
reader counts, or the run stops: a file that silently contributes nothing would hide
findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import duckdb

from ..diagnostics import Location
from ..model import AccountType, Catalog
from .extracts import ExtractError, ExtractStore, StatePart, utc_day
from .extractscan import PlainFile, norm, norm_sql, read_plain, strip_sql


@dataclass(frozen=True)
class Holding:
    """Evidence that a person holds a duty: the extract row that grants it."""

    file: str
    account: str
    entitlement: str


@dataclass(frozen=True)
class HeldConflict:
    """A person holding both duties of a conflict in the state of the systems."""

    person: str
    ruleset: str
    duties: tuple[str, str]
    first: Holding
    second: Holding


@dataclass(frozen=True)
class LeaverAccess:
    """A person who has left but still holds accounts in a system's state."""

    person: str
    left: date
    system: str
    file: str
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class OrphanAccount:
    """Accounts whose ``person`` value matches nobody in the directory."""

    person: str
    system: str
    file: str
    accounts: tuple[str, ...]


def _insert(db: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    """Insert many rows in one statement: each column is passed as one list parameter
    and unnested (``executemany`` runs one statement per row, and SQL literals must be
    formatted and parsed again)."""
    if not rows:
        return  # unnest of empty lists has no column types to insert
    columns = list(zip(*rows, strict=True))
    unnested = ", ".join("unnest(?)" for _ in columns)
    db.execute(f"INSERT INTO {table} SELECT {unnested}", [list(c) for c in columns])


_STRIPPED = ("account", "person", "account_type", "entitlement")


class AccessIndex:
    """Catalog-wide access questions, answered with SQL over the systems' state."""

    def __init__(
        self, catalog: Catalog, extracts: ExtractStore, state: dict[str, tuple[StatePart, ...]]
    ):
        self.catalog = catalog
        self.extracts = extracts
        self.parts = [
            (system, part)
            for system, parts in sorted(state.items())
            for part in parts
            if extracts.path(part.extract.file) is not None
        ]
        self.db = duckdb.connect()
        # give the memory of the intermediate tables back to the system in the background:
        # without it the process kept 0.8 GB more at full size (4.7M rows) for the rest of
        # the build, the pages and narratives included
        self.db.execute("SET allocator_background_threads = true")
        self._load()

    def _files(self) -> tuple[dict[str, PlainFile], dict[str, list[tuple[object, ...]]]]:
        """The state files DuckDB reads (plain ones), and the rows of the others as the
        Python reader gives them."""
        self.extracts.summarise(part.extract.file for _, part in self.parts)
        plain: dict[str, PlainFile] = {}
        python: dict[str, list[tuple[object, ...]]] = {}
        for _, part in self.parts:
            rel = part.extract.file
            self.extracts.summary(rel)  # a malformed extract is an error, never empty
            if rel in plain or rel in python:
                continue
            if (file := self.extracts.plain_file(rel)) is not None:
                plain[rel] = file
            else:
                python[rel] = [
                    (rel, r.system or None, r.account, r.person, r.account_type, r.entitlement)
                    for r in self.extracts.rows(rel)
                ]
        return plain, python

    def _load(self) -> None:
        db = self.db
        plain, python = self._files()
        db.execute(
            "CREATE TABLE python_rows(file VARCHAR, system VARCHAR, account VARCHAR, "
            "person VARCHAR, account_type VARCHAR, entitlement VARCHAR)"
        )
        _insert(db, "python_rows", [row for rows in python.values() for row in rows])
        db.execute(
            "CREATE TABLE state_files(part INTEGER, system VARCHAR, file VARCHAR, "
            "plain BOOLEAN, source VARCHAR, types VARCHAR[], shared BOOLEAN, system_key VARCHAR)"
        )
        _insert(
            db,
            "state_files",
            [
                (
                    number,
                    system,
                    part.extract.file,
                    part.extract.file in plain,
                    str(plain[part.extract.file].path)
                    if part.extract.file in plain
                    else part.extract.file,
                    sorted(str(t) for t in part.types),
                    part.extract.shared,
                    norm(system),
                )
                for number, (system, part) in enumerate(self.parts)
            ],
        )
        db.execute("CREATE TABLE people(id VARCHAR, key VARCHAR)")
        _insert(db, "people", [(p.id, norm(p.id)) for p in self.catalog.people.values()])
        db.execute(
            "CREATE TABLE grants(ruleset VARCHAR, duty VARCHAR, system VARCHAR, key VARCHAR)"
        )
        db.execute("CREATE TABLE conflicts(ruleset VARCHAR, a VARCHAR, b VARCHAR)")
        grants = [
            (rs.id, duty.id, g.system, norm(g.entitlement))
            for rs in self.catalog.rulesets.values()
            for duty in rs.duties
            for g in duty.grants
        ]
        pairs = [
            (rs.id, *sorted(c.duties))
            for rs in self.catalog.rulesets.values()
            for c in rs.conflicts
        ]
        _insert(db, "grants", grants)
        _insert(db, "conflicts", pairs)
        self._check_counts(plain, python)
        # one table, its values normalised once, that every question (and the views)
        # reads: each row tagged with the system whose state it is in (a shared extract's
        # rows only with their own system) and kept when its account type is one its file
        # is the newest for there; a row's source is its file's path when DuckDB read it,
        # its catalog path when the Python reader did
        rows = ["SELECT false AS plain, file AS source, * EXCLUDE (file) FROM python_rows"]
        if plain:
            rows.append(
                "SELECT true AS plain, filename AS source, system, account, person, "
                f"account_type, entitlement FROM ({read_plain(plain.values())})"
            )
        stripped = ", ".join(f"{strip_sql('r.' + c)} AS {c}" for c in _STRIPPED)
        # two statements: with the first as a CTE, DuckDB evaluated the strip expressions
        # once per use (1.5 times the time at 4.7M rows); each row names its state file
        # by number, not by its system's and file's names (a third of the memory)
        db.execute(
            f"""
            CREATE TEMP TABLE state AS
            SELECT f.part, {stripped}
            FROM ({" UNION ALL ".join(rows)}) r
            JOIN state_files f ON f.plain = r.plain AND f.source = r.source
            WHERE (NOT f.shared OR {norm_sql("r.system")} = f.system_key)
              AND list_contains(f.types, {norm_sql("r.account_type")})
            """
        )
        db.execute(
            """
            CREATE TABLE access_rows AS
            SELECT r.part, r.account, r.entitlement,
                   lower(r.entitlement) AS entitlement_key,
                   lower(r.person) AS person_key,
                   coalesce(p.id, r.person) AS person,
                   p.id IS NOT NULL AS known,
                   lower(r.account_type) AS account_type
            FROM state r LEFT JOIN people p ON p.key = lower(r.person)
            """
        )
        db.execute(
            "CREATE VIEW access AS SELECT f.system, f.file, a.* EXCLUDE (part) "
            "FROM access_rows a JOIN state_files f USING (part)"
        )
        db.execute("DROP TABLE state")

    def close(self) -> None:
        """Free the tables (millions of rows at enterprise size) now, not whenever the
        garbage collector reaches this object; no question may be asked afterwards."""
        self.db.close()

    def _check_counts(
        self, plain: dict[str, PlainFile], python: dict[str, list[tuple[object, ...]]]
    ) -> None:
        """Every state file gives exactly the rows the reference reader counts (all its
        rows: a shared extract's rows of other systems too)."""
        read = {rel: len(rows) for rel, rows in python.items()}
        if plain:
            rel_of = {str(file.path): rel for rel, file in plain.items()}
            counts = self.db.execute(
                f"SELECT filename, count(*) FROM ({read_plain(plain.values())}) GROUP BY 1"
            ).fetchall()
            read.update((rel_of[path], n) for path, n in counts)
        for rel in (*plain, *python):
            expected = self.extracts.summary(rel).rows
            if read.get(rel, 0) != expected:
                raise ExtractError(
                    Location(self.catalog.display_path(rel)),
                    f"read {read.get(rel, 0)} rows for the state of the system but the file "
                    f"has {expected}; re-export it as plain CSV (one row per line)",
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
                JOIN grants g ON g.system = a.system AND g.key = a.entitlement_key
                WHERE a.person_key <> ''
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
        """(person, rule set, duty) for every duty a person holds in the systems' state."""
        return [
            tuple(row)  # type: ignore[misc]
            for row in self.db.execute(
                """
                SELECT DISTINCT a.person, g.ruleset, g.duty
                FROM access a JOIN grants g ON g.system = a.system AND g.key = a.entitlement_key
                WHERE a.person_key <> ''
                ORDER BY 1, 2, 3
                """
            ).fetchall()
        ]

    def leavers(self, as_of: date) -> list[LeaverAccess]:
        """People whose employment ended before a state file was taken yet hold accounts in it."""
        left = [
            (p.id, p.employed_until)
            for p in self.catalog.people.values()
            if p.employed_until is not None and p.employed_until < as_of
        ]
        if not left:
            return []
        self.db.execute("CREATE OR REPLACE TEMP TABLE leavers(person VARCHAR, left_on DATE)")
        _insert(self.db, "leavers", left)
        taken = {p.extract.file: p.extract.extracted_at for _, p in self.parts}
        rows = self.db.execute(
            """
            SELECT l.person, l.left_on, a.system, a.file, list(DISTINCT a.account ORDER BY a.account)
            FROM access a JOIN leavers l ON l.person = a.person
            GROUP BY ALL ORDER BY 1, 3, 4
            """
        ).fetchall()
        return [
            LeaverAccess(person, left_on, system, file, tuple(accounts))
            for person, left_on, system, file, accounts in rows
            if (at := taken.get(file)) is not None and utc_day(at) > left_on
        ]

    @cached_property
    def orphans(self) -> list[OrphanAccount]:
        """Accounts whose person value matches no one in the directory."""
        rows = self.db.execute(
            """
            SELECT a.person, a.system, a.file, list(DISTINCT a.account ORDER BY a.account)
            FROM access a WHERE NOT a.known AND a.person_key <> ''
            GROUP BY ALL ORDER BY 2, 1, 3
            """
        ).fetchall()
        return [OrphanAccount(p, s, f, tuple(a)) for p, s, f, a in rows]

    @cached_property
    def account_types_seen(self) -> dict[str, set[AccountType]]:
        """The account types each system's state shows accounts of."""
        rows = self.db.execute("SELECT DISTINCT system, account_type FROM access").fetchall()
        seen: dict[str, set[AccountType]] = {}
        known = {str(t) for t in AccountType}
        for system, account_type in rows:
            if account_type in known:
                seen.setdefault(system, set()).add(AccountType(account_type))
        return seen
