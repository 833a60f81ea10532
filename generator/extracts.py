"""Account extracts (CSV): reading, hashing, and the list of extracts each system has.

Small reads (one review's population) go through Python's csv module; catalog-wide
questions over every row (who holds which duty) are answered by DuckDB straight from
the files, so millions of rows are a join, not a Python loop.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from .diagnostics import Location
from .errors import InputError
from .model import EXTRACT_COLUMNS, AccountType, Catalog, Extract

_TYPES = {t.value for t in AccountType}


class ExtractError(InputError):
    """An extract CSV is malformed (wrong header, ragged row, unknown account type)."""


@dataclass(frozen=True)
class AccessRow:
    """One row of an extract: an account holding an entitlement, on a 1-based line."""

    account: str
    person: str
    account_type: str
    entitlement: str
    line: int


@dataclass(frozen=True)
class SystemExtract:
    """An extract known to the catalog, with the system it describes."""

    system: str
    file: str
    extracted_at: datetime | None
    record: Extract


@dataclass(frozen=True)
class FileCheck:
    """What a referenced file is now: present or not, and its sha256 and row count."""

    exists: bool
    sha256: str | None = None
    rows: int | None = None
    outside: bool = False
    """The path (or a link on it) leads outside the catalog folder, so it is not read."""


class ExtractStore:
    """Reads and hashes the catalog's extract and evidence files, each at most once."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._rows: dict[str, list[AccessRow]] = {}
        self._checks: dict[str, FileCheck] = {}

    def path(self, rel: str) -> Path | None:
        """The file on disk, or None when missing or outside the catalog."""
        target = self.catalog.resolve(rel)
        return target if target is not None and target.is_file() else None

    def check(self, rel: str) -> FileCheck:
        """Hash a referenced file (and count rows of a CSV); cached per path."""
        if rel not in self._checks:
            target = self.path(rel)
            if target is None:
                self._checks[rel] = FileCheck(
                    exists=False, outside=self.catalog.resolve(rel) is None
                )
            else:
                digest = hashlib.sha256()
                newlines = 0
                with target.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                        newlines += block.count(b"\n")
                rows = len(self.rows(rel)) if rel.endswith(".csv") else None
                self._checks[rel] = FileCheck(True, digest.hexdigest(), rows)
        return self._checks[rel]

    def rows(self, rel: str) -> list[AccessRow]:
        """Every row of an extract CSV; raises :class:`ExtractError` with file:line."""
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
                if header is None or tuple(h.strip() for h in header) != EXTRACT_COLUMNS:
                    raise ExtractError(
                        f"{Location(shown, 1, 1)}: extract header must be "
                        f"'{','.join(EXTRACT_COLUMNS)}' (got {','.join(header or [])!r})"
                    )
                out: list[AccessRow] = []
                for values in reader:
                    line = reader.line_num
                    if not values:
                        continue
                    if len(values) != len(EXTRACT_COLUMNS):
                        raise ExtractError(
                            f"{Location(shown, line, 1)}: expected {len(EXTRACT_COLUMNS)} "
                            f"fields, got {len(values)}"
                        )
                    account, person, account_type, entitlement = (v.strip() for v in values)
                    if account_type not in _TYPES:
                        raise ExtractError(
                            f"{Location(shown, line, 1)}: unknown account_type "
                            f"{account_type!r} (one of: {', '.join(sorted(_TYPES))})"
                        )
                    out.append(AccessRow(account, person, account_type, entitlement, line))
                return out
        except UnicodeDecodeError:
            raise ExtractError(f"{shown}: the extract is not UTF-8 text") from None
        except csv.Error as exc:
            raise ExtractError(f"{shown}: unreadable CSV ({exc})") from None

    @cached_property
    def by_system(self) -> dict[str, list[SystemExtract]]:
        """Every extract the catalog names, per system, oldest first (deduplicated by file)."""
        found: dict[str, dict[str, SystemExtract]] = {}
        for system in self.catalog.systems.values():
            for extract in system.extracts:
                if extract.file:
                    found.setdefault(system.id, {})[extract.file] = SystemExtract(
                        system.id, extract.file, extract.extracted_at, extract
                    )
        for review in self.catalog.reviews.values():
            evidence = review.evidence
            control = self.catalog.controls.get(review.control)
            population = control.population(review.population) if control else None
            system = (evidence.system if evidence else None) or (
                population.system if population else None
            )
            if evidence and evidence.file and system:
                found.setdefault(system, {}).setdefault(
                    evidence.file,
                    SystemExtract(system, evidence.file, evidence.extracted_at, evidence),
                )
        return {
            system: sorted(files.values(), key=lambda e: (e.extracted_at or datetime.min, e.file))
            for system, files in sorted(found.items())
        }

    def latest(self, system: str, on_or_before: datetime) -> SystemExtract | None:
        """The newest extract of ``system`` taken on or before a moment."""
        candidates = [
            e
            for e in self.by_system.get(system, [])
            if e.extracted_at is not None and e.extracted_at <= on_or_before
        ]
        return candidates[-1] if candidates else None

    def later(self, system: str, after: datetime) -> list[SystemExtract]:
        """Extracts of ``system`` taken after a moment, oldest first."""
        return [
            e
            for e in self.by_system.get(system, [])
            if e.extracted_at is not None and e.extracted_at > after
        ]
