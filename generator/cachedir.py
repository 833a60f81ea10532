"""Where Controlbook keeps its caches: ``$CONTROLBOOK_CACHE_DIR``, else ``.cache/controlbook``
in the project. Every cache is content-addressed, so deleting it only costs time."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    base = os.environ.get("CONTROLBOOK_CACHE_DIR")
    return Path(base) if base else ROOT / ".cache" / "controlbook"
