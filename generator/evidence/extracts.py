"""Account extracts (CSV): reading, hashing, and the list of extracts each system has.

Rules never hold an extract's rows: they ask for its :class:`ExtractSummary` (row count,
who is behind each account, accounts per type), computed for every extract of the
catalog in one DuckDB scan (:mod:`.extractscan`), and look up the few rows a finding
points at with :meth:`ExtractStore.find`. A summary is kept by the file's sha256
(:mod:`.summarycache`): an unchanged extract is not scanned again. Python's ``csv``
module stays the reference: it reads any file DuckDB cannot read exactly, and it words
every error.
"""

from __future__ import annotations

import csv
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

from ..diagnostics import Diagnostic, Level, Location, invisible_characters
from ..errors import InputError
from ..model import (
    EXTRACT_COLUMNS,
    SYSTEM_COLUMN,
    AccountType,
    Catalog,
    Extract,
    ExtractKind,
    population_systems,
)
from .extractscan import ExtractSummary, PlainFile, norm, summarise
from .filehash import HashAhead, Hashed, hash_file
from .summarycache import SummaryCache, summary_cache

_TYPES = {t.value for t in AccountType}
_TEXTS_KEPT = 8
"""Plain extracts kept as text for :meth:`ExtractStore.find` (findings cluster by file)."""
_HEADERS = (EXTRACT_COLUMNS, (SYSTEM_COLUMN, *EXTRACT_COLUMNS))
"""An extract of one system, or one over several systems (a system column first)."""
_GLOB = frozenset("*?[]{}")
"""DuckDB reads a path with these as a pattern: such files go to the Python reader."""


class ExtractError(InputError):
    """An extract CSV is malformed (wrong header, ragged row, unknown account type), at a
    position in the file."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclass(frozen=True)
class AccessRow:
    """One row of an extract: an account holding an entitlement, on a 1-based line."""

    account: str
    person: str
    account_type: str
    entitlement: str
    line: int
    system: str = ""
    """The row's system, in an extract over several systems (else empty)."""

    @property
    def key(self) -> str:
        """How summaries name the account: ``system/account`` in an extract over several
        systems (the same account ID may exist in two of them), else the account."""
        return account_key(self.system, self.account)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of a timestamp (written in any zone), so that "taken after the
    leaving date" means the same wherever the extract's time was recorded."""
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def account_key(system: str | None, account: str) -> str:
    """See :attr:`AccessRow.key`."""
    return f"{system}/{account}" if system else account


@dataclass(frozen=True)
class SystemExtract:
    """An extract known to the catalog, with the system it describes."""

    system: str
    file: str
    extracted_at: datetime | None
    record: Extract
    shared: bool = False
    """The file covers several systems: only its rows of ``system`` are about this one."""

    @property
    def kind(self) -> ExtractKind:
        return self.record.kind

    @property
    def covers(self) -> frozenset[AccountType]:
        return self.record.covers


@dataclass(frozen=True)
class StatePart:
    """One accounts extract in the state of a system, and the account types it shows there
    (those of its scope that no newer accounts extract of the system covers)."""

    extract: SystemExtract
    types: frozenset[AccountType]


@dataclass(frozen=True)
class FileCheck:
    """What a referenced file is now: present or not, and its sha256 and row count."""

    exists: bool
    sha256: str | None = None
    rows: int | None = None
    outside: bool = False
    """The path (or a link on it) leads outside the catalog folder, so it is not read."""


def _summary_of(rows: list[AccessRow]) -> ExtractSummary:
    holders: dict[str, str] = {}
    by_type: dict[str, set[str]] = {}
    for row in rows:
        if row.person:
            holders[row.key] = row.person
        by_type.setdefault(row.account_type, set()).add(row.key)
    return ExtractSummary(len(rows), holders, {t: frozenset(a) for t, a in by_type.items()})


def _matches(row: AccessRow, wanted: dict[str, str]) -> bool:
    """Values compare as :func:`norm` makes them: spaces around and case do not count."""
    return all(norm(getattr(row, name)) == norm(value) for name, value in wanted.items())


def _search(
    text: str, needle: str, wanted: dict[str, str], first: bool, folded: str | None = None
) -> list[AccessRow]:
    """Rows of a plain extract's text that contain ``needle`` and match ``wanted``.

    With ``folded`` (the text in lower case, of the same length: an ASCII text), the
    lines are found in it by the needle in lower case, so the search also finds every
    row that matches in another case (as :func:`norm` compares) and is complete."""
    out: list[AccessRow] = []
    line, counted = 1, 0
    haystack = text if folded is None else folded
    needle = needle if folded is None else needle.lower()
    position = haystack.find(needle)
    while position >= 0:
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        values = [v.strip() for v in text[start:end].split(",")]
        if start > 0 and len(values) == len(EXTRACT_COLUMNS):
            row = AccessRow(values[0], values[1], values[2], values[3], 0)
            if _matches(row, wanted):
                line += text.count("\n", counted, start)  # only for the rows returned
                counted = start
                out.append(replace(row, line=line))
                if first:
                    break
        position = haystack.find(needle, end)
    return out


class ExtractStore:
    """Reads and hashes the catalog's extract and evidence files, each at most once."""

    def __init__(
        self,
        catalog: Catalog,
        summaries: SummaryCache | None = None,
        *,
        cache: bool = True,
        ahead: HashAhead | None = None,
    ) -> None:
        self.catalog = catalog
        self.ahead = ahead
        """Hashes worked out while the catalog loaded, taken while the files are unchanged."""
        self.summaries = summaries if summaries is not None or not cache else summary_cache()
        """Summaries kept by content (default: the user's cache; none with ``cache=False``)."""
        self._checks: dict[str, FileCheck] = {}
        self._hashes: dict[str, Hashed] = {}
        self._summaries: dict[str, ExtractSummary] = {}
        self._rows: dict[str, list[AccessRow]] = {}
        self._texts: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._shared: dict[str, bool] = {}
        self._paths: dict[str, Path | None] = {}

    def forget_indexes(self) -> None:
        """Free what only the rules read (see :meth:`ExtractSummary.forget_indexes`), the
        texts kept for searches and the rows read by the Python reader; each is read or
        built again when asked."""
        for summary in self._summaries.values():
            summary.forget_indexes()
        self._texts.clear()
        self._rows.clear()

    def path(self, rel: str) -> Path | None:
        """The file on disk, or None when missing or outside the catalog (looked up once
        per path: REM-1 asks for the same later extracts thousands of times)."""
        if rel not in self._paths:
            target = self.catalog.resolve(rel)
            self._paths[rel] = target if target is not None and target.is_file() else None
        return self._paths[rel]

    def check(self, rel: str) -> FileCheck:
        """Hash a referenced file (and count rows of a CSV); cached per path."""
        if rel not in self._checks:
            target = self.path(rel)
            if target is None:
                self._checks[rel] = FileCheck(
                    exists=False, outside=self.catalog.resolve(rel) is None
                )
            else:
                digest = self._hash(rel, target).sha256
                rows = self.summary(rel).rows if rel in self._extract_files else None
                self._checks[rel] = FileCheck(True, digest, rows)
        return self._checks[rel]

    @cached_property
    def _extract_files(self) -> frozenset[str]:
        """The files the catalog names as extracts (of a system or a review's population):
        only these are read as account extracts; any other file (an attachment, a raw
        export, a review's items) is only hashed."""
        return frozenset(e.file for extracts in self.by_system.values() for e in extracts)

    def _hash(self, rel: str, target: Path) -> Hashed:
        if rel not in self._hashes:
            self._hashes[rel] = self._hash_now(target)
        return self._hashes[rel]

    def _hash_now(self, target: Path) -> Hashed:
        found = self.ahead.take(target) if self.ahead is not None else None
        return found if found is not None else hash_file(target)

    def summary(self, rel: str) -> ExtractSummary:
        """Row count, holders and accounts per type of an extract CSV; raises
        :class:`ExtractError` (with file and line) for a malformed one.

        The first call summarises every extract the catalog names that is not summarised
        yet, in one scan."""
        if rel not in self._summaries:
            known = self._extract_files
            self._summarise(sorted(known - self._summaries.keys()) if rel in known else [rel])
        return self._summaries[rel]

    def summarise(self, rels: Iterable[str]) -> None:
        """Summarise these extracts (those not summarised yet) in one scan, and no others:
        a question about the current state need not hash and scan every past snapshot."""
        self._summarise(sorted(set(rels) - self._summaries.keys()))

    def _summarise(self, rels: list[str]) -> None:
        paths = {rel: path for rel in rels if (path := self.path(rel)) is not None}
        unhashed = {rel: path for rel, path in paths.items() if rel not in self._hashes}
        with ThreadPoolExecutor() as pool:  # hashlib releases the GIL
            hashed = dict(zip(unhashed, pool.map(self._hash_now, unhashed.values()), strict=True))
        for rel, result in hashed.items():
            self._hashes.setdefault(rel, result)
        if self.summaries is not None:  # a file that read before, unchanged
            for rel in paths:
                if (kept := self.summaries.get(self._hashes[rel].sha256)) is not None:
                    self._summaries[rel] = kept
        todo = [rel for rel in rels if rel not in self._summaries]
        plain = {rel: file for rel in todo if rel in paths and (file := self.plain_file(rel))}
        for rel, file in plain.items():
            self._check_header(rel, file.path)
        found = summarise(plain)
        for rel in todo:
            summary = found.get(rel)
            if summary is None or not set(summary.by_type) <= _TYPES:
                summary = _summary_of(self.rows(rel))  # exact, and words any error
            self._summaries[rel] = summary
            if self.summaries is not None and rel in paths:
                self.summaries.put(self._hashes[rel].sha256, summary)

    def duckdb_readable(self, rel: str) -> bool:
        """Whether DuckDB reads this extract exactly as the Python reader does: a plain file
        (see :mod:`.extractscan`) whose path holds no glob character."""
        target = self.path(rel)
        if target is None or _GLOB & set(str(target)):
            return False
        return self._hash(rel, target).plain

    def plain_file(self, rel: str) -> PlainFile | None:
        """How DuckDB reads this extract exactly as the Python reader does, or None when it
        cannot (see :meth:`duckdb_readable`)."""
        if not self.duckdb_readable(rel):
            return None
        target = self.path(rel)
        assert target is not None
        return PlainFile(target, self.has_system_column(rel), self._hash(rel, target).crlf)

    def has_system_column(self, rel: str) -> bool:
        """Whether the extract starts with a system column (one file over several systems)."""
        if rel not in self._shared:
            target = self.path(rel)
            first = ""
            if target is not None:
                with target.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
                    first = handle.readline()
            self._shared[rel] = first.split(",", 1)[0].strip() == SYSTEM_COLUMN
        return self._shared[rel]

    def _check_header(self, rel: str, target: Path) -> None:
        with target.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = next(csv.reader(handle), None)
        if header is None or tuple(h.strip() for h in header) not in _HEADERS:
            self.rows(rel)  # raises the header error

    def find(
        self,
        rel: str,
        *,
        account: str | None = None,
        person: str | None = None,
        entitlement: str | None = None,
        system: str | None = None,
        first: bool = False,
    ) -> list[AccessRow]:
        """Rows of an extract with the given values (compared as :func:`norm` does), in file
        order (only the first with ``first``); ``system`` picks the rows of one system in an
        extract over several. A plain extract is searched as text instead of parsed."""
        wanted = {
            k: v
            for k, v in (("account", account), ("person", person), ("entitlement", entitlement))
            if v is not None
        }
        needle = next((v.strip() for v in wanted.values() if v.strip()), None)
        target = self.path(rel)
        if system is not None and self.has_system_column(rel):
            wanted["system"] = system
        elif (
            needle is not None
            and target is not None
            and self.duckdb_readable(rel)
            and not self.has_system_column(rel)
        ):
            self.summary(rel)  # a malformed extract is an error, never an empty search
            text, folded = self._text(rel, target)
            found = _search(text, needle, wanted, first, folded)
            if found or folded is not None:
                return found  # an ASCII text was searched in any case: nothing else matches
            # not there verbatim: perhaps in another case; the parsed rows decide
        found = [r for r in self.rows(rel) if _matches(r, wanted)]
        return found[:1] if first else found

    def _text(self, rel: str, target: Path) -> tuple[str, str | None]:
        """The text of a plain extract, and for an ASCII one the same in lower case (a
        non-ASCII letter may change length in lower case, so such a text has none)."""
        if rel not in self._texts:
            text = target.read_text(encoding="utf-8-sig")
            self._texts[rel] = (text, text.lower() if text.isascii() else None)
            if len(self._texts) > _TEXTS_KEPT:
                self._texts.popitem(last=False)
        self._texts.move_to_end(rel)
        return self._texts[rel]

    def rows(self, rel: str) -> list[AccessRow]:
        """Every row of an extract CSV, read by Python's ``csv`` module (the reference
        reader, for files that are not plain); raises :class:`ExtractError` with file:line."""
        if rel not in self._rows:
            target = self.path(rel)
            self._rows[rel] = [] if target is None else self._read(target, rel)
        return self._rows[rel]

    def _read(self, target: Path, rel: str) -> list[AccessRow]:
        shown = self.catalog.display_path(rel)
        try:
            with target.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                columns = tuple(h.strip() for h in header or [])
                if columns not in _HEADERS:
                    raise ExtractError(
                        Location(shown, 1, 1),
                        f"extract header must be '{','.join(EXTRACT_COLUMNS)}' (or, over "
                        f"several systems, '{SYSTEM_COLUMN},{','.join(EXTRACT_COLUMNS)}'; "
                        f"got {','.join(header or [])!r})",
                    )
                out: list[AccessRow] = []
                line = reader.line_num + 1
                for values in reader:
                    line, after = line, reader.line_num + 1  # a row starts on ``line``
                    if not values:
                        line = after
                        continue
                    if len(values) != len(columns):
                        raise ExtractError(
                            Location(shown, line, 1),
                            f"expected {len(columns)} fields, got {len(values)}",
                        )
                    for column, value in zip(columns, values, strict=True):
                        if hidden := invisible_characters(value):
                            raise ExtractError(
                                Location(shown, line, 1),
                                f"{column} {value.strip()!a} holds {', '.join(hidden)}: an ID "
                                "must be plain text (retype it)",
                            )
                    system = values[0].strip() if len(columns) > len(EXTRACT_COLUMNS) else ""
                    account, person, account_type, entitlement = (v.strip() for v in values[-4:])
                    if norm(account_type) in _TYPES:
                        account_type = norm(account_type)
                    if account_type not in _TYPES:
                        raise ExtractError(
                            Location(shown, line, 1),
                            f"unknown account_type {account_type!r} "
                            f"(one of: {', '.join(sorted(_TYPES))})",
                        )
                    out.append(AccessRow(account, person, account_type, entitlement, line, system))
                    line = after
                return out
        except UnicodeDecodeError:
            raise ExtractError(Location(shown), "the extract is not UTF-8 text") from None
        except csv.Error as exc:
            raise ExtractError(Location(shown), f"unreadable CSV ({exc})") from None

    @cached_property
    def by_system(self) -> dict[str, list[SystemExtract]]:
        """Every extract the catalog names, per system, oldest first (deduplicated by file)."""
        found: dict[str, dict[str, SystemExtract]] = {}

        def add(systems: list[str], extract: Extract, replace: bool) -> None:
            if not extract.file:
                return
            shared = self.has_system_column(extract.file)
            for system in systems:
                listed = SystemExtract(system, extract.file, extract.extracted_at, extract, shared)
                files = found.setdefault(system, {})
                if replace or extract.file not in files:
                    files[extract.file] = listed

        for system in self.catalog.systems.values():
            for extract in system.extracts:
                add(extract.systems or [system.id], extract, replace=True)
        for review in self.catalog.reviews.values():
            evidence = review.evidence
            if evidence is None:
                continue
            control = self.catalog.controls.get(review.control)
            population = control.population(review.population) if control else None
            systems = evidence.systems or (
                [evidence.system]
                if evidence.system
                else population_systems(population)
                if population
                else []
            )
            add(systems, evidence, replace=False)
        return {
            system: sorted(files.values(), key=lambda e: (e.extracted_at or datetime.min, e.file))
            for system, files in sorted(found.items())
        }

    def state(self, system: str, at: datetime) -> tuple[StatePart, ...]:
        """The state of ``system`` at a moment: for each account type, the newest
        ``accounts`` extract covering it taken at or before then, taken together. Reports
        and event logs are never state; a one-row slice taken last is the state of its
        slice only."""
        newest: dict[AccountType, SystemExtract] = {}
        for extract in self.by_system.get(system, []):  # oldest first: newer ones win
            if (
                extract.kind is ExtractKind.ACCOUNTS
                and extract.extracted_at is not None
                and extract.extracted_at <= at
            ):
                for account_type in extract.covers:
                    newest[account_type] = extract
        parts: dict[str, tuple[SystemExtract, set[AccountType]]] = {}
        for account_type, extract in newest.items():
            parts.setdefault(extract.file, (extract, set()))[1].add(account_type)
        return tuple(
            StatePart(extract, frozenset(types)) for _, (extract, types) in sorted(parts.items())
        )

    def next_accounts(
        self, system: str, account_type: AccountType, after: datetime, until: datetime
    ) -> SystemExtract | None:
        """The first ``accounts`` extract of ``system`` covering ``account_type`` taken after
        ``after`` (and at or before ``until``, the as-of date): where a removal must show."""
        for extract in self.by_system.get(system, []):
            if (
                extract.kind is ExtractKind.ACCOUNTS
                and account_type in extract.covers
                and extract.extracted_at is not None
                and after < extract.extracted_at <= until
            ):
                return extract
        return None


def extract_diagnostics(catalog: Catalog) -> list[Diagnostic]:
    """Every data error in the catalog's extract files, as diagnostics with file and line,
    so that ``validate`` finds what ``check`` and ``build`` would stop on. A missing file
    is not a data error here: EVD-2 reports it as a finding."""
    store = ExtractStore(catalog)
    files = {e.file for extracts in store.by_system.values() for e in extracts}
    files |= {r.evidence.file for r in catalog.reviews.values() if r.evidence and r.evidence.file}
    problems = []
    for rel in sorted(f for f in files if f.endswith(".csv")):
        if store.path(rel) is None:
            continue
        try:
            store.summary(rel)
        except ExtractError as exc:
            problems.append(Diagnostic(Level.ERROR, exc.location, exc.message))
            continue
        if store.has_system_column(rel):
            problems.extend(_undeclared_systems(store, rel))
    return problems


def _undeclared_systems(store: ExtractStore, rel: str) -> list[Diagnostic]:
    """Rows of a shared extract whose system the extract does not name: they would be in
    no system's state, so they are an error, not silently left out."""
    declared = {
        e.system for extracts in store.by_system.values() for e in extracts if e.file == rel
    }
    shown = store.catalog.display_path(rel)
    found: dict[str, int] = {}
    for row in store.rows(rel):
        if norm(row.system) not in {norm(s) for s in declared}:
            found.setdefault(row.system, row.line)
    return [
        Diagnostic(
            Level.ERROR,
            Location(shown, line, 1),
            f"system {system!r} is not one of the systems the extract is recorded for "
            f"({', '.join(sorted(declared)) or 'none'}): its rows would be in no system's state",
        )
        for system, line in sorted(found.items(), key=lambda kv: kv[1])
    ]
