"""Wall time and peak memory of one stage.

Peak memory is the peak resident set size (VmHWM) of this process during the stage: the
counter is reset before the stage (``/proc/self/clear_refs``, Linux) and read after it.
Worker processes and subprocesses are reported separately, as the largest peak of any
child so far (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    peak_mb: float
    children_mb: float
    note: str = ""


def _peak_mb() -> float:
    """This process's peak RSS since the last reset, in MB."""
    for line in _STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux: the peak is the process's so far
        _CLEAR.write_text("5")


def measure(name: str, action: Callable[[], T], note: str = "") -> tuple[T, Stage]:
    """Run ``action``; return its result and the stage's time and peak memory."""
    _reset_peak()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result, Stage(name, seconds, _peak_mb(), children, note)
