"""Cold load, warm load and evaluate of a catalog, with wall and CPU time and peak RSS.

``python -m benchmarks.coldload CATALOG``: the machine is shared, so CPU time
(``time.process_time()``) and the load average are printed beside wall time.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.catalog.loader import load_catalog
from generator.catalog.parsecache import ParseCache
from generator.evaluation.evaluate import evaluate


def _timed(name: str, work: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, "
        f"peak {peak:.0f} MB, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return result


def main(folder: str) -> None:
    with tempfile.TemporaryDirectory() as cache:
        _timed("load + validate, cold", lambda: load_catalog(folder, cache=ParseCache(Path(cache))))
        catalog = _timed(
            "load + validate, warm", lambda: load_catalog(folder, cache=ParseCache(Path(cache)))
        )
    evaluation = _timed("evaluate", lambda: evaluate(catalog))
    print(f"{len(evaluation.findings)} findings")


if __name__ == "__main__":
    main(sys.argv[1])
