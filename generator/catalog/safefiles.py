"""Reading catalog files without being led astray: only regular files of bounded size,
never a pipe or device, never a link out of the catalog folder."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..diagnostics import invisible_characters

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Larger YAML files are refused: catalog records are small; extracts belong in CSV."""


def _kind_of_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


class Unreadable(Exception):
    """A catalog path that is not read: not a regular file, or too large."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; raises
    :class:`Unreadable` for anything else.

    Opening a named pipe for reading waits for a writer, forever, and a device can
    stream without end: the type is checked before opening, and again on the open
    file (it may have been swapped in between), which is opened without blocking.
    """
    mode = os.stat(path).st_mode
    fd = -1
    if stat.S_ISREG(mode):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        if fd >= 0:
            os.close(fd)
        raise Unreadable(f"is {_kind_of_file(mode)}, not a regular file; it is not read")
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if size > limit:
            mib = limit // (1024 * 1024)
            raise Unreadable(f"file is {size:,} bytes; the limit is {mib} MiB", line=1)
        raw = handle.read(limit + 1)  # it may grow meanwhile
    if len(raw) > limit:
        raise Unreadable(f"file grew past {limit:,} bytes while being read", line=1)
    return raw


def refused_path(path: Path, rel: str, inside: Path) -> str | None:
    """Why the file at ``path`` is not read, or None: a file name with invisible
    characters (it would reach pages and PDF metadata), a link loop, a dangling link, or
    a link leading outside the catalog folder."""
    hidden = invisible_characters(rel)
    if hidden:
        return f"the file name contains {', '.join(hidden)}; rename the file"
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a loop of symbolic links; it is not read"
        if exc.errno == errno.ENOENT:
            return "is a link to a file that does not exist; it is not read"
        return f"cannot read the file: {exc.strerror}"
    if not target.is_relative_to(inside):
        return "is a link to a file outside the catalog folder; it is not read"
    return None
