"""``controlbook init``: write a small, valid, commented catalog to start from."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ..errors import InputError
from .schema import SCHEMA_FILENAME, schema_json


def _files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(("_", ".")):
            continue
        rel = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.extend(_files(entry, rel + "/"))
        else:
            found.append((rel, entry))
    return found


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the starter catalog into ``directory``; returns the files written.

    Refuses a folder that already has files unless ``force`` is set, so an
    existing catalog is never overwritten by accident.
    """
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a folder")
    if directory.exists() and any(directory.iterdir()) and not force:
        raise InputError(f"{directory}: folder is not empty (use --force to write into it)")
    written: list[Path] = []
    for rel, source in _files(resources.files("generator.catalog") / "starter"):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        written.append(target)
    schema_file = directory / SCHEMA_FILENAME
    schema_file.write_text(schema_json(), encoding="utf-8")
    written.append(schema_file)
    return sorted(written)
