"""Content-addressed cache of parsed YAML: a file that has not changed is not parsed again.

Parsing is most of the cost of loading a large catalog (review records hold thousands
of decisions, and most of them never change once signed off). An entry is keyed by the
sha256 of the text and of everything that decides what parsing yields (the parser
module, PyYAML, Python), so a stale entry is never used; it holds the plain values and
the packed positions of :class:`~generator.catalog.yamlsrc.SourceMap`.

Entries are read with an unpickler that only builds plain values and dates: an entry
cannot name any other class or function, so a tampered cache cannot run code. A text
that does not parse is never cached (its error is worded afresh every time).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from array import array
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..model import positions
from ..model.positions import SourceMap
from . import yamlsrc
from .cachedir import cache_root
from .yamlsrc import YamlDocument, parse_yaml

_ALLOWED = {("datetime", name) for name in ("date", "datetime", "timezone", "timedelta")}
"""The only classes an entry may name: what YAML timestamps unpickle to."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a plain value")


@cache
def _salt() -> bytes:
    """What parsing depends on besides the text."""
    code = b"".join(Path(m.__file__).read_bytes() for m in (yamlsrc, positions))  # type: ignore[arg-type]
    parts = [hashlib.sha256(code).hexdigest(), metadata.version("pyyaml"), sys.version]
    return "|".join(parts).encode()


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

    @staticmethod
    def _read(entry: Path) -> YamlDocument | None:
        try:
            blob = entry.read_bytes()
        except OSError:
            return None
        try:
            data, packed = _PlainUnpickler(io.BytesIO(blob)).load()
            positions = array("I")
            positions.frombytes(packed)
        except Exception:
            return None
        return YamlDocument(data, SourceMap(data, positions))

    @staticmethod
    def _write(entry: Path, document: YamlDocument) -> None:
        blob = pickle.dumps((document.data, document.marks.packed.tobytes()), protocol=5)
        temp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(blob)
            os.replace(temp, entry)
        except OSError:  # a read-only or full cache only costs speed
            temp.unlink(missing_ok=True)


def parse_cache() -> ParseCache:
    """The cache under ``<cache root>/yaml`` (see :mod:`generator.catalog.cachedir`)."""
    return ParseCache(cache_root() / "yaml")


__all__ = ["ParseCache", "parse_cache"]
