"""Where each value of a catalog record came from: line and column in its YAML file.

:mod:`generator.catalog.yamlsrc` records the positions while it parses; every record
keeps its :class:`SourceMap` (see :mod:`.base`), so a finding can point at the exact line.
"""

from __future__ import annotations

import copy
from array import array
from dataclasses import dataclass
from typing import Any

Path_ = tuple[str | int, ...]
"""A key path into a document, e.g. ``("owners", 0, "person")``."""


@dataclass(frozen=True)
class Mark:
    """1-based line and column."""

    line: int
    column: int


class SourceMap:
    """Positions of the values (and mapping keys) of one document, by key path.

    The parser records every position in document order (a value, then for a mapping
    each key followed by its value), packed as three integers: line, column, and how
    many positions the value's subtree spans. A lookup hops from sibling to sibling
    with those spans, so nothing is built per document, whether asked or not. Call
    :meth:`detach` before changing the document's values.
    """

    __slots__ = ("_data", "_packed")

    def __init__(self, data: Any = None, packed: array[int] | None = None) -> None:
        self._data = data
        self._packed = packed if packed is not None else array("I")

    @property
    def packed(self) -> array[int]:
        """Line, column and span of every value and key, in document order."""
        return self._packed

    def detach(self) -> None:
        """Keep the positions right while the caller changes the values (copies them)."""
        self._data = copy.deepcopy(self._data)

    def _find(self, path: Path_) -> tuple[int, bool, Any]:
        """Index of the value at ``path`` (or its nearest ancestor), whether the whole
        path was found, and the collection holding that value."""
        packed = self._packed
        index, value, parent = 0, self._data, None
        if not packed:
            return 0, False, None
        for part in path:
            if not _has(value, part):
                return index, False, parent
            child = index + 1
            if isinstance(value, dict):
                for key in value:
                    if key == part:
                        break
                    child += 1 + packed[3 * (child + 1) + 2]  # the key, then its value
                child += 1
            else:
                for _ in range(int(part)):
                    child += packed[3 * child + 2]
            index, parent, value = child, value, value[part]
        return index, True, parent

    def _at(self, index: int) -> Mark:
        if 3 * index + 2 >= len(self._packed):
            return Mark(1, 1)
        return Mark(self._packed[3 * index], self._packed[3 * index + 1])

    def value(self, path: Path_) -> Mark:
        """The mark of the value at ``path``, or of its nearest recorded ancestor."""
        return self._at(self._find(path)[0])

    def key(self, path: Path_) -> Mark:
        """The mark of the key that introduces ``path`` (falls back to the value)."""
        index, found, parent = self._find(path)
        return self._at(index - 1 if found and isinstance(parent, dict) else index)

    def __getstate__(self) -> tuple[Any, array[int]]:
        return self._data, self._packed

    def __setstate__(self, state: tuple[Any, array[int]]) -> None:
        self.__init__(*state)  # type: ignore[misc]


def _has(value: Any, part: str | int) -> bool:
    if isinstance(value, dict):
        return part in value
    if isinstance(value, list) and isinstance(part, int) and not isinstance(part, bool):
        return 0 <= part < len(value)
    return False
