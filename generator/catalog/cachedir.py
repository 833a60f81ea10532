"""Where Controlbook keeps its caches: ``$CONTROLBOOK_CACHE_DIR``, else the user's cache
folder (``$XDG_CACHE_HOME/controlbook``, by default ``~/.cache/controlbook``). Every cache
is content-addressed, so deleting it only costs time."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("CONTROLBOOK_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "controlbook"
