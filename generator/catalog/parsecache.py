"""Content-addressed cache of parsed YAML and items CSVs: a file that has not changed is
not parsed again.

Parsing is most of the cost of loading a large catalog (review records hold thousands
of decisions, and most of them never change once signed off). An entry is keyed by the
sha256 of the text and of everything that decides what parsing yields (the parser
module, PyYAML, Python), so a stale entry is never used; it holds the plain values and
the packed positions of :class:`~generator.catalog.yamlsrc.SourceMap`.

Entries are read with an unpickler that only builds plain values and dates: an entry
cannot name any other class or function, so a tampered cache cannot run code. A text
that does not parse is never cached (its error is worded afresh every time).

A review's items CSV (:mod:`.itemscsv`) is cached the same way, keyed by its bytes and
the code of the items reader and the model: an entry holds the record and line of every
row read, the field number of each column, the errors found in the text (without the
file's name) and the rows at fault there. The records are validated into items when
read, as after a fresh read, so they are the same items and errors. Every entry starts
with the sha256 of the rest: a damaged entry is never used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from array import array
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import diagnostics, model
from ..diagnostics import Diagnostic
from ..model import positions
from ..model.positions import SourceMap
from ..model.reviews import ReviewItem
from . import itemscsv, wording, yamlsrc
from .cachedir import cache_root, loads_plain
from .itemscsv import ItemsRead, read_items
from .yamlsrc import YamlDocument, parse_yaml


@cache
def _salt() -> bytes:
    """What parsing depends on besides the text."""
    code = b"".join(Path(m.__file__).read_bytes() for m in (yamlsrc, positions))  # type: ignore[arg-type]
    parts = [hashlib.sha256(code).hexdigest(), metadata.version("pyyaml"), sys.version]
    return "|".join(parts).encode()


@cache
def _items_salt() -> bytes:
    """What reading an items CSV depends on besides its bytes: the reader, the wording
    of its errors, and every model module (the records are validated as ``ReviewItem``)."""
    folder = Path(model.__file__).parent  # type: ignore[arg-type]
    modules = [Path(m.__file__) for m in (itemscsv, wording, diagnostics)]  # type: ignore[arg-type]
    code = b"".join(p.read_bytes() for p in [*modules, *sorted(folder.glob("*.py"))])
    versions = [metadata.version(name) for name in ("pydantic", "pydantic-core", "duckdb")]
    return "|".join(["items", hashlib.sha256(code).hexdigest(), *versions, sys.version]).encode()


def read_entry(entry: Path) -> Any | None:
    """The plain values stored in ``entry`` by :func:`write_entry`; None when the entry
    is missing, damaged (its sha256 does not match) or names anything but plain values."""
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    body = memoryview(blob)[32:]
    if hashlib.sha256(body).digest() != blob[:32]:
        return None
    return loads_plain(body)


def write_entry(entry: Path, value: Any) -> None:
    """Store plain values (see :func:`read_entry`) under a temporary name, then rename;
    a read-only or full cache only costs speed."""
    body = pickle.dumps(value, protocol=5)
    temp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(hashlib.sha256(body).digest() + body)
        os.replace(temp, entry)
    except OSError:
        temp.unlink(missing_ok=True)


class ParseCache:
    """Parsed documents under ``folder``, one file per distinct text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def _entry(self, text: str) -> Path:
        digest = hashlib.sha256(_salt() + b"\0" + text.encode("utf-8", "surrogatepass"))
        key = digest.hexdigest()
        return self.folder / key[:2] / f"{key}.pickle"

    def parse(self, text: str) -> YamlDocument:
        """Like :func:`~generator.catalog.yamlsrc.parse_yaml` (same result, same errors)."""
        entry = self._entry(text)
        document = self._read(entry)
        if document is not None:
            self.hits += 1
            return document
        self.misses += 1
        document = parse_yaml(text)
        self._write(entry, document)
        return document

    def has(self, text: str) -> bool:
        """Whether the parse of ``text`` is kept (the entry may still be damaged)."""
        return self._entry(text).is_file()

    def fill(self, text: str) -> YamlDocument | None:
        """Parse ``text`` and keep the result unless it is kept already; None when the
        text does not parse (nothing is kept: its error is worded by the load)."""
        entry = self._entry(text)
        if entry.is_file():
            return None
        try:
            document = parse_yaml(text)
        except yamlsrc.YamlError:
            return None
        self._write(entry, document)
        return document

    def fill_items(self, raw: bytes, path: Path) -> None:
        """Read the items CSV ``raw`` (at ``path``) and keep it unless it is kept already."""
        entry = self._items_entry(raw)
        if not entry.is_file():
            self._write_items(entry, read_items(raw, path))

    @staticmethod
    def _read(entry: Path) -> YamlDocument | None:
        stored = read_entry(entry)
        try:
            data, packed = stored  # type: ignore[misc]
            positions = array("I")
            positions.frombytes(packed)
        except Exception:
            return None
        return YamlDocument(data, SourceMap(data, positions))

    @staticmethod
    def _write(entry: Path, document: YamlDocument) -> None:
        write_entry(entry, (document.data, document.marks.packed.tobytes()))

    def items(
        self, raw: bytes, path: Path, display: str
    ) -> tuple[list[ReviewItem], list[Diagnostic]]:
        """Like :func:`~generator.catalog.itemscsv.parse_items` (same items, positions
        and errors), for the content ``raw`` of the items CSV at ``path``."""
        entry = self._items_entry(raw)
        read = self._read_items(entry)
        if read is not None:
            self.hits += 1
            return read.result(display)
        self.misses += 1
        read = read_items(raw, path)
        self._write_items(entry, read)
        return read.result(display)

    def _items_entry(self, raw: bytes) -> Path:
        key = hashlib.sha256(_items_salt() + b"\0" + raw).hexdigest()
        return self.folder / "items" / key[:2] / f"{key}.pickle"

    @staticmethod
    def _write_items(entry: Path, read: ItemsRead) -> None:
        stored = (read.records, read.lines.tobytes(), read.columns, read.problems)
        write_entry(entry, (*stored, sorted(read.bad)))

    @staticmethod
    def _read_items(entry: Path) -> ItemsRead | None:
        stored = read_entry(entry)
        try:
            records, packed, columns, problems, bad = stored  # type: ignore[misc]
            lines = array("I")
            lines.frombytes(packed)
            return ItemsRead(records, lines, columns, problems, frozenset(bad))
        except Exception:
            return None


def parse_cache() -> ParseCache:
    """The cache under ``<cache root>/yaml`` (see :mod:`generator.catalog.cachedir`)."""
    return ParseCache(cache_root() / "yaml")


__all__ = ["ParseCache", "parse_cache", "read_entry", "write_entry"]
