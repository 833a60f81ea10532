"""The as-of evaluation, kept across builds while nothing it reads changes.

``controlbook build`` evaluates the catalog at its as-of date. The findings and the
not-assessed notes only change when something a rule reads changes, so they are kept
under ``<cache>/evaluation``, keyed by a SHA-256 of what the quarter-end trend is keyed
by (see :mod:`.trendcache`: the evaluation code, every record without its descriptive
fields, the sha256 of every file a record names), and also of:

- the as-of date and the rules run;
- where every finding may point: the catalog's root and how it is displayed, the YAML
  files read, and for every record its file and key path, and the positions of every
  file records come from (each value's line and column, and the document's keys and
  list lengths; an items CSV's row lines and column numbers). A title edit that adds a
  line moves everything below it, so it evaluates again: the cached findings never
  carry a stale line.

The key is also the evaluation's :attr:`~.evaluate.Evaluation.inputs`, which the
narratives' keys build on (:mod:`generator.publish.narrativekey`). An evaluation with an
internal error (``ERR-1``: a rule crashed) is not kept and has no inputs digest. An entry
that cannot be read, is damaged (each carries the SHA-256 of its contents) or is not
the one for its key is ignored and written again. Deleting the folder only costs time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..catalog.cachedir import cache_root, read_checked, write_checked
from ..evidence.extracts import ExtractStore
from ..evidence.filehash import HashAhead
from ..model import Catalog
from .evaluate import INTERNAL_ERROR, Evaluation, evaluate
from .findings import Finding, NotAssessed
from .rules import RULES, Context
from .trendcache import catalog_digests, code_digest

KEPT = 16
"""Entries kept: the newest by use (one per catalog state and as-of date built lately)."""


@dataclass(frozen=True)
class _Entry:
    key: str
    findings: tuple[Finding, ...]
    not_assessed: tuple[NotAssessed, ...]


_ENTRY = TypeAdapter(_Entry)


class EvaluationCache:
    """Findings and not-assessed notes of catalogs at their as-of date, kept in ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_root() / "evaluation"
        self.hits = 0
        self.misses = 0
        self.catalog_hash: str | None = None
        """The :func:`~.trendcache.catalog_digest` of the last catalog evaluated, which the
        quarter-end trend is keyed by too."""

    def evaluate(
        self, catalog: Catalog, as_of: date | None = None, *, ahead: HashAhead | None = None
    ) -> Evaluation:
        """What :func:`~.evaluate.evaluate` returns for ``catalog`` at ``as_of`` (default:
        the catalog's setting, else today), from the cache when nothing it reads changed.
        The result's context is fresh: the views derive from it what they show. ``ahead``
        holds the catalog's files hashed while it loaded."""
        day = as_of or catalog.settings.as_of or date.today()
        extracts = ExtractStore(catalog, ahead=ahead)
        records, positions = catalog_digests(catalog, extracts)
        self.catalog_hash = records
        key = self._key(catalog, day, records, positions) if positions else None
        entry = self._read(key) if key else None
        if entry is None:
            self.misses += 1
            result = evaluate(catalog, day, extracts=extracts)
            if key and not any(f.rule == INTERNAL_ERROR for f in result.findings):
                self._write(key, _Entry(key, result.findings, result.not_assessed))
                return replace(result, inputs=key)
            return result
        self.hits += 1
        return Evaluation(
            organisation=catalog.settings.organisation,
            as_of=day,
            period=catalog.settings.period,
            findings=entry.findings,
            not_assessed=entry.not_assessed,
            rules=RULES,
            controls=tuple(catalog.controls),
            context=Context(catalog, day, extracts),
            inputs=key,
        )

    def _key(self, catalog: Catalog, day: date, records: str, positions: str) -> str:
        parts = [
            code_digest(),
            records,
            positions,
            day.isoformat(),
            ",".join(r.id for r in RULES),
            str(catalog.root),
            catalog.display_root,
            "\n".join(catalog.files),
        ]
        digest = hashlib.sha256()
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def _read(self, key: str) -> _Entry | None:
        body = read_checked(self._path(key))
        if body is None:
            return None
        try:
            entry = _ENTRY.validate_json(body, strict=True)
        except ValidationError:
            return None
        return entry if entry.key == key else None

    def _write(self, key: str, entry: _Entry) -> None:
        """Write the entry (see :func:`~generator.catalog.cachedir.write_checked`), keeping
        the :data:`KEPT` newest."""
        write_checked(self._path(key), _ENTRY.dump_json(entry), KEPT)
