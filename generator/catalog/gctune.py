"""The cyclic garbage collector, set for a process that holds a large catalog.

Python's collector runs a generation-0 pass every 700 allocations and a full pass each
time the long-lived objects grew by a quarter. Loading a catalog allocates millions of
objects that live until the process ends (every review item, its positions, the
evaluation's indexes), so the full passes walk an ever larger heap, again and again: at
the benchmark's full size (790,894 review items) 18 full passes took 8.1 s of a 49 s
``controlbook check`` from nothing. Nearly every object a run allocates is freed by its
reference count, not by the collector, so passes that are rarer and smaller free the same
garbage. The thresholds are mypy's, for the same reason (a type checker holds a program's
whole tree): a pass every 200,000 allocations, the older generations every 30 of the
younger; measured, 1.9 s of collection for the same check, the same findings, the same
peak memory (2.45 GB).

Even those rarer passes cost: a young pass walks every young container whole, and while
a catalog loads its young containers are the growing indexes and lists of hundreds of
thousands of records. At full size the 37 passes of a load took 1.5 to 2 s and found
1,274 objects to free (a few kilobytes). So a tuned process also pauses the collector
while a catalog loads, and then freezes what is loaded (:func:`gc.freeze`): the
catalog's objects stay until the process ends, and later passes no longer walk them.
Measured at full size (warm caches, load + evaluate): 21.5 to 26.0 s before, 19.3 to
19.6 s after, with the same findings.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (200_000, 30, 30)

_tuned = False


def tune_for_large_catalogs() -> None:
    """Set :data:`THRESHOLDS` for this process (a CLI command or a worker), and let
    :func:`loading_catalog` pause the collector."""
    global _tuned
    gc.set_threshold(*THRESHOLDS)
    _tuned = True


@contextmanager
def loading_catalog() -> Iterator[None]:
    """In a tuned process: no collection while the block loads a catalog, and what it
    loaded frozen once it succeeded. Elsewhere (a library caller, a test) nothing
    changes: a freeze is for a process that ends when its command does."""
    if not _tuned or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
        # frozen before the collector runs again: its first pass would walk everything
        # just loaded (Python 3.13 runs it at the first allocation after gc.enable)
        gc.freeze()
    finally:
        gc.enable()


__all__ = ["THRESHOLDS", "loading_catalog", "tune_for_large_catalogs"]
