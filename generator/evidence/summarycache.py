"""Extract summaries kept by content: an extract that has not changed is not scanned again.

An :class:`~generator.evidence.extractscan.ExtractSummary` (row count, holders, accounts
per type) is a pure function of the extract's bytes, so it is kept under
``<cache root>/summaries/`` keyed by the file's sha256 (which EVD-2 computes anyway) and
by the code that summarises (:mod:`.extractscan`, :mod:`.extracts`, the model, DuckDB and
Python versions). Only a summary of a file that read without error is stored; an entry is
hash-checked and holds only plain values (see :mod:`generator.catalog.parsecache`), so a
damaged one is scanned again.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from .. import model
from ..catalog.cachedir import cache_root
from ..catalog.parsecache import read_entry, write_entry
from . import extractscan
from .extractscan import ExtractSummary


@cache
def _salt() -> str:
    """What a summary depends on besides the file's bytes."""
    folder = Path(model.__file__).parent  # type: ignore[arg-type]
    here = Path(extractscan.__file__).parent  # type: ignore[arg-type]
    modules = [here / "extractscan.py", here / "extracts.py"]
    code = b"".join(p.read_bytes() for p in [*modules, *sorted(folder.glob("*.py"))])
    return "|".join(
        ["summary", hashlib.sha256(code).hexdigest(), metadata.version("duckdb"), sys.version]
    )


class SummaryCache:
    """Summaries under ``folder``, one file per distinct extract content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def _entry(self, sha256: str) -> Path:
        key = hashlib.sha256(f"{_salt()}\0{sha256}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, sha256: str) -> ExtractSummary | None:
        """The summary of the extract whose content has this sha256, if kept."""
        stored = read_entry(self._entry(sha256))
        try:
            rows, holders, by_type = stored  # type: ignore[misc]
            valid = (
                isinstance(rows, int)
                and isinstance(holders, dict)
                and isinstance(by_type, dict)
                and all(isinstance(a, frozenset) for a in by_type.values())
            )
        except (TypeError, ValueError):
            valid = False
        if not valid:
            self.misses += 1
            return None
        self.hits += 1
        return ExtractSummary(rows, holders, by_type)

    def put(self, sha256: str, summary: ExtractSummary) -> None:
        """Keep the summary of a file that read without error."""
        write_entry(self._entry(sha256), (summary.rows, summary.holders, summary.by_type))


def summary_cache() -> SummaryCache:
    """The cache under ``<cache root>/summaries`` (see :mod:`generator.catalog.cachedir`)."""
    return SummaryCache(cache_root() / "summaries")


__all__ = ["SummaryCache", "summary_cache"]
