"""Where Controlbook keeps its caches: ``$CONTROLBOOK_CACHE_DIR``, else the user's cache
folder (``$XDG_CACHE_HOME/controlbook``, by default ``~/.cache/controlbook``). Every cache
is content-addressed, so deleting it only costs time."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("CONTROLBOOK_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "controlbook"


def read_checked(path: Path) -> bytes | None:
    """The body of an entry :func:`write_checked` wrote, or None when it is missing,
    unreadable or damaged (its first line is the body's SHA-256). A body read is touched:
    the newest by use are the ones kept."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    digest, _, body = data.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return body


def write_checked(path: Path, body: bytes, kept: int) -> None:
    """Write ``body`` after its SHA-256 under a temporary name, then rename it to
    ``path``, and keep the ``kept`` newest entries of its folder (same suffix). A cache
    that cannot be written only costs the next build the work."""
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)
        os.replace(temp, path)
        entries = sorted(
            path.parent.glob(f"*{path.suffix}"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in entries[kept:]:
            old.unlink(missing_ok=True)
    except OSError:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
