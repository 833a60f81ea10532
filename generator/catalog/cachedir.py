"""Where Controlbook keeps its caches: ``$CONTROLBOOK_CACHE_DIR``, else the user's cache
folder (``$XDG_CACHE_HOME/controlbook``, by default ``~/.cache/controlbook``). Every cache
is content-addressed, so deleting it only costs time."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

_ALLOWED = {("datetime", name) for name in ("date", "datetime", "timezone", "timedelta")}
"""The only classes an entry may name: what YAML timestamps unpickle to."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a plain value")


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


def loads_plain(body: bytes | memoryview) -> Any | None:
    """The plain values (strings, numbers, tuples, lists, dicts, dates) pickled in
    ``body``; None when it is not a pickle or names any other class or function, so a
    tampered entry cannot run code. Unpickling is the fastest way to read such values
    back (several times faster than JSON, and repeated strings are stored once)."""
    try:
        return _PlainUnpickler(io.BytesIO(body)).load()
    except Exception:
        return None
