"""Open findings by severity at a past day, kept across builds while no rule input changes.

The dashboard's "year at a glance" evaluates the whole catalog again at each quarter end
before the as-of date. Those results only change when something a rule can read
changes, so each day's counts are kept under ``<cache>/trend``, keyed by a SHA-256 of:

- the code that evaluates (every file of the stages evaluation may import, see
  ``tests/test_layout.py``), the versions of Python, pydantic and DuckDB, and the rules run;
- the day;
- every record of the catalog (settings included) with its
  :class:`~generator.model.base.Descriptive` fields left out: the model says which
  fields no rule reads, so a new field counts unless it is marked;
- for every file path a record names (extracts, items CSVs, attachments, raw exports,
  mappings, details sidecars), whether it exists inside the catalog and its sha256. A
  review's items read from its items CSV enter by that file (see :func:`_filled_from_file`).

An entry that cannot be read, or does not hold four counts, is ignored and written
again. Deleting the folder only costs time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from enum import Enum
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, get_args

from ..catalog.cachedir import cache_root
from ..catalog.itemscsv import ItemsPositions
from ..evidence.extracts import ExtractStore
from ..model import Catalog, Record, Review, Severity
from ..model.base import RelPath, descriptive_fields
from ..model.catalog import COLLECTIONS
from ..model.positions import SourceMap
from .evaluate import evaluate
from .rules import RULES, Rule

_PACKAGE = Path(__file__).resolve().parents[1]
_EVALUATION_READS = ("evaluation", "evidence", "catalog", "model", "references")
_SHARED_FILES = ("errors.py", "diagnostics.py", "resources.py")
_DISTRIBUTIONS = ("pydantic", "pydantic-core", "duckdb")
_PLAIN = frozenset({str, int, bool, float, date, datetime, type(None)})


@cache
def code_digest() -> str:
    """A hash of the code and data evaluation runs on, and of the libraries under it."""
    digest = hashlib.sha256()
    files = [p for part in _EVALUATION_READS for p in (_PACKAGE / part).rglob("*")]
    files += [_PACKAGE / name for name in _SHARED_FILES]
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in _DISTRIBUTIONS:
        digest.update(f"{name}={metadata.version(name)}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


@cache
def _kept_fields(cls: type[Record]) -> tuple[tuple[str, bool], ...]:
    """``(field, names a file)`` of every field of ``cls`` a rule may read, in order."""
    skipped = descriptive_fields(cls)
    return tuple(
        (name, _names_file(field.annotation, field.metadata))
        for name, field in cls.model_fields.items()
        if name not in skipped
    )


def _names_file(annotation: Any, field_metadata: list[Any]) -> bool:
    """Whether a field is a :data:`RelPath` (also ``RelPath | None``)."""
    marks = get_args(RelPath)[1:]
    if any(any(m is mark for mark in marks) for m in field_metadata):
        return True
    return any(arg == RelPath for arg in get_args(annotation))


class _Inputs:
    """Writes what the rules can read of a catalog into a hash, record by record, and
    where each record was written into another (with ``positions``)."""

    def __init__(self, extracts: ExtractStore, *, positions: bool = False) -> None:
        self.extracts = extracts
        self.digest = hashlib.sha256()
        self.positions = hashlib.sha256() if positions else None
        self.known = True
        """False when a record's positions are of a kind :func:`_marks` cannot write."""
        self._maps: dict[int, SourceMap] = {}

    def value(self, value: Any, names_file: bool = False) -> Any:
        """A plain, comparable form of a field value (records as tuples of their kept fields)."""
        if type(value) in _PLAIN and not names_file:
            return value  # most values: checked first, as isinstance of a model is slow
        if isinstance(value, Record):
            if self.positions is not None:
                self._where(value)
            fields = []
            filled = _filled_from_file(value)
            for name, is_path in _kept_fields(type(value)):
                if name == filled:
                    fields.append("<read from the file named>")
                    continue
                field = getattr(value, name)  # plain values inline: review items
                if is_path or type(field) not in _PLAIN:
                    field = field.value if isinstance(field, Enum) else self.value(field, is_path)
                fields.append(field)
            return (type(value).__name__, tuple(fields))
        if isinstance(value, list | tuple):
            return tuple(self.value(v, names_file) for v in value)
        if isinstance(value, dict):
            return tuple(sorted((str(k), self.value(v)) for k, v in value.items()))
        if isinstance(value, Enum):
            return value.value
        if names_file and isinstance(value, str):
            found = self.extracts.check(value)
            return (value, found.exists, found.outside, found.sha256)
        return value

    def _where(self, record: Record) -> None:
        """The record's file and key path, and once per file its positions."""
        assert self.positions is not None
        source = record._source  # where the loader says the record was written
        if source is None:
            self.positions.update(b"-\n")
            return
        where = repr((source.file, source.path)).encode("utf-8", "surrogatepass")
        self.positions.update(where + b"\n")
        marks = source.marks
        if id(marks) not in self._maps:
            self._maps[id(marks)] = marks  # kept, so that no other map takes its id
            found = _marks(marks)
            if found is None:
                self.known = False
            else:
                self.positions.update(len(found).to_bytes(8, "big") + found)

    def add(self, part: str, records: Iterable[Record]) -> None:
        self.digest.update(part.encode() + b"\0")
        if self.positions is not None:
            self.positions.update(part.encode() + b"\0")
        for record in records:
            self.digest.update(repr(self.value(record)).encode("utf-8", "surrogatepass") + b"\n")


def _filled_from_file(record: Record) -> str | None:
    """The field of ``record`` the loader filled from a file another of its fields names:
    a review's items, read from its items CSV. That file's path and sha256 are in the key
    (``items_file`` names a file), and the code that reads it too, so the items and their
    positions in the CSV are left out: at full size that is 790,894 records walked, more
    than half of the key's time."""
    if type(record) is Review and record.items_file is not None:
        return "items"
    return None


def _marks(marks: SourceMap) -> bytes | None:
    """The positions a map gives, as bytes (None for a kind of map not known here): a
    YAML document's line, column and span of every value and key, with the document's
    shape (its keys in order and its list lengths, not its values); an items CSV's line
    of each row and number of each column."""
    if type(marks) is SourceMap:
        data, packed = marks.__getstate__()
        shape: list[str] = []
        _shape(data, shape)
        return (
            packed.typecode.encode()
            + packed.tobytes()
            + "\0".join(shape).encode("utf-8", "surrogatepass")
        )
    if type(marks) is ItemsPositions:
        lines, columns = marks.__getstate__()
        return lines.typecode.encode() + lines.tobytes() + repr(list(columns.items())).encode()
    return None


def _shape(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for key, item in value.items():
            out.append(repr(key))
            _shape(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for item in value:
            _shape(item, out)
        out.append("]")
    else:
        out.append(".")


def catalog_digest(catalog: Catalog, extracts: ExtractStore) -> str:
    """A hash of everything in ``catalog`` a rule can read, whatever the as-of date."""
    return _digests(catalog, extracts, positions=False)[0]


def catalog_digests(catalog: Catalog, extracts: ExtractStore) -> tuple[str, str | None]:
    """:func:`catalog_digest`, and a hash of where every record was written (the file,
    the key path, the positions of the file), or None when some record's positions are
    of a kind this module cannot hash."""
    return _digests(catalog, extracts, positions=True)


def _digests(
    catalog: Catalog, extracts: ExtractStore, *, positions: bool
) -> tuple[str, str | None]:
    inputs = _Inputs(extracts, positions=positions)
    inputs.add("settings", [catalog.settings])
    for part in COLLECTIONS:
        inputs.add(part, getattr(catalog, part).values())
    where = inputs.positions.hexdigest() if inputs.positions is not None and inputs.known else None
    return inputs.digest.hexdigest(), where


class TrendCache:
    """Open findings by severity of a catalog at past days, kept in ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_root() / "trend"
        self.hits = 0
        self.misses = 0
        self._known: tuple[Catalog, ExtractStore, str] | None = None

    def know(self, catalog: Catalog, extracts: ExtractStore, catalog_hash: str) -> None:
        """Take ``catalog_hash`` as the :func:`catalog_digest` of ``catalog`` with
        ``extracts`` (computed already, by :class:`~.evalcache.EvaluationCache`), as long as
        neither changes."""
        self._known = (catalog, extracts, catalog_hash)

    def key(self, catalog_hash: str, day: date, rules: tuple[Rule, ...]) -> str:
        parts = [code_digest(), catalog_hash, day.isoformat(), ",".join(r.id for r in rules)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def counts_at(
        self,
        catalog: Catalog,
        days: list[date],
        extracts: ExtractStore,
        rules: tuple[Rule, ...] = RULES,
        before_evaluating: Callable[[], object] | None = None,
    ) -> list[dict[Severity, int]]:
        """Open findings per severity of ``catalog`` evaluated at each of ``days``;
        ``before_evaluating()`` is called once before the first day not in the cache is
        evaluated (the caller frees what it no longer needs: each evaluation builds
        access tables of its own)."""
        if not days:
            return []
        known = self._known
        if known is not None and known[0] is catalog and known[1] is extracts:
            catalog_hash = known[2]
        else:
            catalog_hash = catalog_digest(catalog, extracts)
        out = []
        for day in days:
            entry = self.folder / f"{self.key(catalog_hash, day, rules)}.json"
            counts = _read(entry)
            if counts is None:
                self.misses += 1
                if before_evaluating is not None:
                    before_evaluating()
                    before_evaluating = None
                evaluation = evaluate(catalog, day, rules=rules, extracts=extracts)
                counts = evaluation.by_severity()
                if evaluation.context is not None:
                    evaluation.context.close()  # its access tables: hundreds of MB each
                _write(entry, counts)
            else:
                self.hits += 1
            out.append(counts)
        return out


def _read(entry: Path) -> dict[Severity, int] | None:
    try:
        found = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or set(found) != {str(s) for s in Severity}:
        return None
    counts = {s: found[str(s)] for s in Severity}
    valid = all(type(n) is int and n >= 0 for n in counts.values())
    return counts if valid else None


def _write(entry: Path, counts: dict[Severity, int]) -> None:
    """Write the entry under a temporary name, then rename it; a cache that cannot be
    written (read-only, full) only costs the next build the evaluation."""
    temp = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({str(s): n for s, n in counts.items()}, out)
        os.replace(temp, entry)
    except OSError:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
