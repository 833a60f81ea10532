"""Wall time and peak memory of one stage.

Peak memory is the peak resident set size (VmHWM) of this process during the stage: the
counter is reset before the stage (``/proc/self/clear_refs``, Linux) and read after it.
Worker processes and subprocesses are reported separately, as the largest peak of any
child so far (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).

A command run as a user runs it (``controlbook build``) is measured by
:func:`measure_command`: its peak is the largest total resident size of the process and all
its descendants (the PDF workers), sampled five times a second while it runs. Resident
sizes count the pages a parent and its child share once in each: a worker just forked
from a 3 GB build counted as 3 GB more. So a sample of several processes that would set
a new peak is taken again as the sum of their proportional set sizes (``Pss`` in
``/proc/PID/smaps_rollup``: each shared page split among its sharers), which is what the
processes hold together. Only then: that walk of a 3 GB process's pages is not free.
"""

from __future__ import annotations

import contextlib
import resource
import subprocess
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


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``/proc/PID/task/TID/children``, Linux)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for tasks in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (tasks / "children").read_text().split()]
    return found


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _pss_mb(pid: int) -> float | None:
    """The process's proportional set size, or None when it cannot be read (gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return None


def tree_mb(pids: list[int], peak: float) -> tuple[float, float, float | None]:
    """The first process's resident MB, the tree's, and (when the tree's would exceed
    ``peak`` and holds more than one process) the tree's proportional MB."""
    own = _rss_mb(pids[0])
    total = own + sum(_rss_mb(pid) for pid in pids[1:])
    if total <= peak or len(pids) < 2:
        return own, total, None
    shares = [_pss_mb(pid) for pid in pids]
    known = [v for v in shares if v is not None]
    return own, total, sum(known) if len(known) == len(shares) else None


def measure_command(
    name: str, command: list[str], *, env: dict[str, str], log: Path
) -> tuple[subprocess.CompletedProcess[str], Stage]:
    """Run ``command`` (its standard error to ``log``); return it and its stage, whose
    ``peak_mb`` is the peak total of the process tree (see the module's docstring). Each
    sample is written beside the log (``.memory.tsv``: seconds, the command's own MB, the
    tree's MB), to be read next to the log's timestamped phases."""
    started = time.perf_counter()
    peak = 0.0
    timeline = log.with_suffix(".memory.tsv")
    with (
        log.open("w", encoding="utf-8") as errors,
        timeline.open("w", encoding="utf-8") as samples,
    ):
        samples.write("seconds\tcommand MB\ttree MB\ttree PSS MB\n")
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        while True:
            own, total, shared = tree_mb(_tree(process.pid), peak)
            peak = max(peak, total if shared is None else shared)
            split = "" if shared is None else f"{shared:.0f}"
            at = time.perf_counter() - started
            samples.write(f"{at:.1f}\t{own:.0f}\t{total:.0f}\t{split}\n")
            try:
                process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
        out = process.stdout.read() if process.stdout else ""
    seconds = time.perf_counter() - started
    done = subprocess.CompletedProcess(command, process.returncode, out, "")
    return done, Stage(name, seconds, peak, peak, "")
