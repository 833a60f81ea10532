"""Parse a cold catalog on every core: worker processes fill the parse cache, then the
load reads it.

Parsing is work per file (YAML, and a review's items CSV), independent between files,
and most of a first load: a catalog of a thousand controls has some 5,000 YAML files
and 4,000 items files. When many files have no cache entry, they are parsed in worker
processes, each writing its entries (:class:`.parsecache.ParseCache`, content
addressed) and saying so after each file; the load in this process reads each file as
soon as its worker has passed it, and finds its entry, as on a second run. The load's own
work per file (reading the entry, validating the records) runs meanwhile, on the time
the workers leave, instead of after the last worker.

What a worker writes can only be used for the very text it parsed: an entry is keyed by
the content and by the code that parses it. The load still reads every file itself,
checks every path and reports every error, so this changes how fast a load is, never
what it yields. A file a worker cannot or may not read (a link out of the catalog, a
pipe, a syntax error) is skipped here and dealt with by the load, which words its error.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from subprocess import DEVNULL, PIPE
from types import TracebackType

from ..model.reviews import ItemsFile
from ..resources import interpreter_env
from .gctune import tune_for_large_catalogs
from .itemscsv import MAX_ITEMS_BYTES
from .parsecache import ParseCache
from .safefiles import Unreadable, read_regular, refused_path

MIN_FILES = 400
"""Fewer files without an entry are parsed by the load itself: starting workers (about
a second each, importing the models) costs more than it saves."""


_SAMPLE_EVERY = 10
"""Every tenth file is looked up in the cache to estimate how many have no entry."""


def _text(path: Path) -> str | None:
    try:
        return read_regular(path).decode("utf-8-sig")
    except (OSError, Unreadable, UnicodeDecodeError):
        return None


def missing(cache: ParseCache, paths: list[Path]) -> list[Path]:
    """The files whose parse is not kept (unreadable ones included: the load words why)."""
    return [path for path in paths if (text := _text(path)) is None or not cache.has(text)]


def _fill(folder: str, root: str, paths: list[str]) -> None:
    """Worker: parse these catalog files (and the items CSVs their reviews name) into the
    cache at ``folder``, writing a line to stdout after each file (see :class:`Prefill`)."""
    cache, inside = ParseCache(Path(folder)), Path(os.path.realpath(root))
    out = sys.stdout.buffer
    for name in paths:
        with contextlib.suppress(Exception):  # the load parses it again, and words the error
            _fill_one(cache, Path(name), Path(root), inside)
        out.write(b"\n")
        out.flush()


def _fill_one(cache: ParseCache, path: Path, root: Path, inside: Path) -> None:
    """One file and the items CSV of its review, if it names one."""
    text = _text(path)
    document = cache.fill(text) if text is not None else None
    data = document.data if document is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("items_file"), dict):
        return
    rel = ItemsFile.model_validate(data["items_file"]).file
    target = root / rel
    if refused_path(target, rel, inside) is None:
        cache.fill_items(read_regular(target, MAX_ITEMS_BYTES), target)


class Prefill:
    """Worker processes parsing catalog files into the cache, each given every n-th file
    in order and reporting each one done. :meth:`ready` waits until a file's worker has
    passed it; leaving the block waits for every worker (and, after an error, lets them
    stop at their next file)."""

    def __init__(
        self, processes: list[subprocess.Popen[bytes]], paths: list[Path], stride: int = 1
    ) -> None:
        self._processes = processes
        self._done = [0] * len(processes)
        self._place = {  # path -> (its turn, its worker): worker k has paths[k::stride]
            path: divmod(index, stride)
            for index, path in enumerate(paths)
            if index % stride < len(processes)
        }
        self.given = len(self._place)
        """How many files the workers were given (they skip those whose parse is kept)."""

    def ready(self, path: Path) -> None:
        """Return once the worker given ``path`` has parsed it, skipped it or ended; at once
        for a file no worker was given."""
        place = self._place.get(path)
        if place is None:
            return
        turn, worker = place
        process = self._processes[worker]
        assert process.stdout is not None
        while self._done[worker] <= turn:
            if not process.stdout.readline():  # ended (or died): the load parses the rest
                self._done[worker] = self.given
                break
            self._done[worker] += 1

    def __enter__(self) -> Prefill:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self._processes:
            assert process.stdout is not None
            if error is None:
                process.stdout.read()  # what is left of its reports
            process.stdout.close()  # after an error: the worker stops at its next report
            process.wait()


def start_prefill(
    cache: ParseCache, root: Path, paths: list[Path], workers: int | None = None
) -> Prefill:
    """Start parsing the files of ``paths`` (inside ``root``) that have no entry in
    ``cache`` in worker processes, when there are at least :data:`MIN_FILES` of them
    (estimated from every tenth file) and more than one core (else no worker is started).

    The workers are fresh interpreters (``python -m generator.catalog.prefill``), not
    ``multiprocessing`` children: those re-import the caller's main module (a script
    without a ``__main__`` guard would run again) or fork a process that may hold threads.
    """
    if workers is None:
        affinity = getattr(os, "sched_getaffinity", None)
        workers = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    if workers < 2 or len(paths) < MIN_FILES:
        return Prefill([], [])  # no worker: the load parses what has no entry
    # a warm cache is the common case: a sample tells, without reading every file twice
    if len(missing(cache, paths[::_SAMPLE_EVERY])) * _SAMPLE_EVERY < MIN_FILES:
        return Prefill([], [])  # no worker: the load parses what has no entry
    command = [sys.executable, "-m", __name__, str(cache.folder), str(root)]
    env = interpreter_env()
    started: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(workers):  # every n-th file: a like mix for each
            process = subprocess.Popen(command, stdin=PIPE, stdout=PIPE, stderr=DEVNULL, env=env)
            started.append(process)
            assert process.stdin is not None
            with process.stdin:
                process.stdin.write(json.dumps([str(p) for p in paths[index::workers]]).encode())
    except OSError:  # no interpreter to start, or a worker gone: the load parses the rest
        pass
    return Prefill(started, paths, workers)


def prefill(cache: ParseCache, root: Path, paths: list[Path], workers: int | None = None) -> int:
    """:func:`start_prefill`, waiting for every worker; returns how many files they were given."""
    with start_prefill(cache, root, paths, workers) as running:
        return running.given


if __name__ == "__main__":
    tune_for_large_catalogs()
    _fill(sys.argv[1], sys.argv[2], json.load(sys.stdin))
