"""A file's sha256 and the kind of CSV text it holds, in one read; and the files of a
catalog hashed ahead, on the cores the load leaves free.

A build hashes every file the catalog names (the evaluation cache's key holds each
sha256, and so do the narratives' evidence manifests): at full size some 5,000 files and
900 MB, 1.5 s of a rebuild after one control changed, after the load, which runs on one
core. :class:`HashAhead` hashes the catalog folder's files in a worker process while the
catalog loads, and :class:`~.extracts.ExtractStore` takes each hash from it only when the
file is still the one that was read: the same device, inode, size, modification and
change time. A change time cannot be set back: any write after the hash began gives the
file a new one, unless it falls in the same tick of the file system's clock as the
change before it. So, as git does with its "racy" index entries, a file changed less than
:data:`SETTLED_NS` before its hash began is not hashed ahead; it is hashed when asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import DEVNULL, PIPE

from ..resources import interpreter_env

_SUSPICIOUS = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf"
)
"""Control, zero-width and bidi characters (UTF-8): a file with any is read by the Python
reader, which names the cell's line (an ID with an invisible character is a data error)."""
_PLAIN_ASCII = bytes(b for b in range(0x80) if not _SUSPICIOUS.fullmatch(bytes([b])))
"""The ASCII bytes :data:`_SUSPICIOUS` never matches: a block of only these is plain."""


@dataclass(frozen=True)
class Hashed:
    """What one read of a file tells: its sha256 and the kind of CSV text it holds."""

    sha256: str
    plain: bool
    """No quote, NUL, lone carriage return or mix of CRLF and LF line ends: one row per
    line, fields between commas."""
    crlf: bool
    """Its lines end in CRLF."""


def hash_file(target: Path) -> Hashed:
    """The file's sha256, and whether it is plain. Each 1 MiB block is tested by C-speed
    byte searches first; the :data:`_SUSPICIOUS` regex (10 s per GB) runs only on a block
    that is not ASCII or holds a control byte, where it may match."""
    digest = hashlib.sha256()
    special = False
    carriage = crlf = lf = 0
    suspicious = False
    last = b""
    first = True
    with target.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            special = special or b'"' in block or b"\0" in block
            lf += block.count(b"\n")
            if b"\r" in block or last[-1:] == b"\r":
                carriage += block.count(b"\r")
                crlf += block.count(b"\r\n") + (last[-1:] == b"\r" and block[:1] == b"\n")
            scanned = last + (block[3:] if first and block.startswith(b"\xef\xbb\xbf") else block)
            if not suspicious and (not scanned.isascii() or scanned.translate(None, _PLAIN_ASCII)):
                suspicious = bool(_SUSPICIOUS.search(scanned))
            last, first = block[-2:], False
    # one kind of line end: DuckDB takes the newline from the first lines and fails on a
    # CRLF line among LF ones (or the other way round)
    one_kind = carriage == crlf and crlf in (0, lf)
    return Hashed(digest.hexdigest(), not special and one_kind and not suspicious, crlf > 0)


SETTLED_NS = 3_000_000_000
"""A file changed this recently before its hash began is hashed again when asked: file
systems keep times in ticks (two seconds on FAT), and two writes in one tick leave the
same times."""

_Signature = tuple[int, int, int, int, int]
"""Device, inode, size, modification and change time (ns) of a regular file."""


def _signature(path: str) -> _Signature | None:
    try:
        found = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _candidates(top: str) -> Iterator[str]:
    """The regular files under ``top`` that are not YAML, outside hidden folders, folder
    by folder; links are not followed, and a folder that cannot be read is passed over
    (the load reports it)."""
    folders = [top]
    while folders:
        try:
            with os.scandir(folders.pop()) as found:
                entries = sorted(found, key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
            elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(
                (".yaml", ".yml")
            ):
                yield entry.path


def _hashed_ahead(path: str, settled_ns: int) -> tuple[_Signature, Hashed] | None:
    """The file's signature and hash, when it is a regular file that did not change while
    it was read nor within ``settled_ns`` before."""
    began = time.time_ns()
    before = _signature(path)
    if before is None or max(before[3], before[4]) > began - settled_ns:
        return None  # a link, a folder, gone, or changed too lately to tell a change
    try:
        hashed = hash_file(Path(path))
    except OSError:
        return None  # unreadable: hashed when asked, which reports it
    return (before, hashed) if _signature(path) == before else None


class HashAhead:
    """Hashes, in a worker process, every file under ``root`` that a catalog may name as
    evidence: each regular file that is not YAML, outside hidden folders (``.git``), links
    not followed. Wrap the load and the evaluation in ``contextlib.closing``: closing stops
    the worker.

    The worker is a fresh interpreter (``python -m generator.evidence.filehash``), not a
    thread: hashing holds the interpreter lock while it scans each block for quotes and
    line ends, and the load, which waits on a file system call for every file, lost as
    much time waiting for the lock as the threads saved. A thread of this process reads
    what the worker writes (one JSON line per file)."""

    def __init__(self, root: Path, *, settled_ns: int = SETTLED_NS) -> None:
        self._found: dict[str, tuple[_Signature, Hashed]] = {}
        self.taken = 0
        """Hashes taken by :meth:`take` (the others were worked out when asked)."""
        command = [sys.executable, "-m", __name__, os.path.realpath(root), str(settled_ns)]
        self._worker: subprocess.Popen[bytes] | None = None
        with contextlib.suppress(OSError):  # else no worker: every file is hashed when asked
            self._worker = subprocess.Popen(
                command, stdin=DEVNULL, stdout=PIPE, stderr=DEVNULL, env=interpreter_env()
            )
        self._reader = threading.Thread(target=self._read, name="hash-ahead", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        if self._worker is None or self._worker.stdout is None:
            return
        for line in self._worker.stdout:
            try:
                path, dev, ino, size, mtime, ctime, sha256, plain, crlf = json.loads(line)
                signature = (int(dev), int(ino), int(size), int(mtime), int(ctime))
                hashed = Hashed(str(sha256), bool(plain), bool(crlf))
            except (ValueError, TypeError):
                return  # not what the worker writes: the rest is hashed when asked
            self._found[str(path)] = (signature, hashed)

    @property
    def files(self) -> list[str]:
        """The files hashed ahead so far and not taken yet."""
        return list(self._found)

    def wait(self) -> None:
        """Wait until the worker has hashed every file."""
        self._reader.join()

    def take(self, target: Path) -> Hashed | None:
        """The hash of ``target`` (a real path, as :meth:`Catalog.resolve` gives) worked
        out ahead, when the file is unchanged since; else None, and the caller hashes it
        (a file the worker has not reached yet too: it is never waited for)."""
        found = self._found.pop(str(target), None)
        if found is None or _signature(str(target)) != found[0]:
            return None
        self.taken += 1
        return found[1]

    def close(self) -> None:
        """Stop the worker (use ``contextlib.closing`` around the load and evaluation)."""
        if self._worker is not None:
            if self._worker.poll() is None:
                self._worker.kill()
            self._worker.wait()
        self._reader.join()
        self._found.clear()


def _hash_all(root: str, settled_ns: int) -> None:
    """The worker: one JSON line per file hashed (path, signature, sha256, plain, crlf)."""
    out = sys.stdout
    for path in _candidates(root):
        found = _hashed_ahead(path, settled_ns)
        if found is not None:
            (signature, hashed) = found
            line = [path, *signature, hashed.sha256, hashed.plain, hashed.crlf]
            out.write(json.dumps(line) + "\n")
            out.flush()


if __name__ == "__main__":
    _hash_all(sys.argv[1], int(sys.argv[2]))
