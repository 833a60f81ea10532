"""Writing into a catalog folder: files all or nothing, and YAML text edited in place.

What ``controlbook import``, ``review collect`` and the IGA campaign import share: every
file is written under a temporary name and renamed into place, the edited YAML file last,
and an error or an interruption removes what was written; nothing is written through a
link that leads out of the catalog. YAML files are edited as text (a new entry appended to
a block) so that every other byte, comment and blank line stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from ..model import Catalog

MAX_RAW_BYTES = 512 * 1024 * 1024
"""Larger exports are refused: an import holds the file in memory (twice)."""


def read_raw(path: Path) -> bytes:
    """The bytes of a regular file (not a pipe or device), within the size limit."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file")
        if info.st_size > MAX_RAW_BYTES:
            raise InputError(
                f"{path}: {info.st_size:,} bytes; the limit is {MAX_RAW_BYTES // 2**20} MiB"
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror}") from None


def folder_name(system: str) -> str:
    """A system ID as a folder name (IDs may hold ':' or '@', which paths may not)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", system)


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def file_of(catalog: Catalog, shown: str) -> str:
    for rel in catalog.files:
        if catalog.display_path(rel) == shown:
            return rel
    raise InputError(f"cannot find the file {shown} in the catalog")  # pragma: no cover


_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9 _./@+,()'&-]*")


def yaml_scalar(value: Any, flow: bool = False) -> str:
    """A YAML scalar that reads back as exactly ``value``: plain when that is safe,
    else double-quoted (JSON's string syntax is YAML's)."""
    if not isinstance(value, str):
        return str(value)
    plain = _PLAIN.fullmatch(value) and value == value.strip()
    if plain and flow:
        plain = re.fullmatch(r"[A-Za-z0-9_./-]+", value) is not None
    if plain:
        try:
            plain = yaml.safe_load(f"k: {value}") == {"k": value}
        except yaml.YAMLError:
            plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def block_end(lines: list[str], start: int, min_indent: int) -> int:
    """The last line of the block starting at ``start``: later lines belong to it while
    they are blank or indented at least ``min_indent`` (comments too)."""
    last = start
    for index in range(start + 1, len(lines)):
        if not lines[index].strip():
            continue
        if indent_of(lines[index]) < min_indent:
            break
        last = index
    return last


def commit_files(
    root: Path, writes: list[tuple[str, bytes]], guard: tuple[str, bytes] | None = None
) -> None:
    """Write every file under a temporary name, then rename them into place (the edited
    YAML file last). ``guard`` is that file and the bytes it had when the edit was made:
    if it changed meanwhile, nothing is written. On any error, or an interruption, remove
    everything written so far."""
    for rel, _ in writes:
        _inside(root, root / rel)
    token = secrets.token_hex(4)
    created: list[Path] = []
    temps: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for rel, data in writes:
            target = root / rel
            _make_parents(target.parent, root, created)
            temp = target.parent / f".{target.name}.{token}.import-tmp"
            with temp.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
            temps.append((temp, target))
        for temp, target in temps:
            changed = guard is not None and target == root / guard[0]
            if changed and guard is not None and target.read_bytes() != guard[1]:
                raise InputError(f"{guard[0]} changed meanwhile; nothing was written")
            existed = target.exists()
            os.replace(temp, target)
            if not existed:
                placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _inside(root: Path, target: Path) -> None:
    """Refuse a target whose folder (or the nearest one that exists) is a link leading out
    of the catalog, or that is itself a link: an import writes inside the catalog only."""
    inside = Path(os.path.realpath(root))
    existing = target.parent
    while not existing.exists() and existing != root:
        existing = existing.parent
    if not Path(os.path.realpath(existing)).is_relative_to(inside) or target.is_symlink():
        raise InputError(
            f"{target}: leads outside the catalog folder (a link?); nothing was written"
        )


def _make_parents(folder: Path, root: Path, created: list[Path]) -> None:
    missing = []
    current = folder
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)
