"""Load a catalog folder: read every YAML file, validate it against its model, keep positions.

Errors are collected across all files, so that a user fixes everything in one
pass; cross-file checks (references, duplicates, dates) live in
:mod:`generator.catalog.validate`.
"""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import (
    Diagnostic,
    Level,
    Location,
    did_you_mean,
    format_key,
)
from ..errors import CatalogInvalid, InputError
from ..model import FILE_KINDS, Catalog, Record, Review
from ..model.base import nested_fields
from ..model.positions import Path_, SourceMap
from .gctune import loading_catalog
from .parsecache import ParseCache
from .prefill import Prefill, start_prefill
from .safefiles import Unreadable, read_regular, refused_path
from .validate import LoadedFile, assemble
from .wording import friendly_error
from .yamlsrc import YamlError, parse_yaml


@dataclass
class FileOutcome:
    """What reading one file gave: the file (if valid), its diagnostics, and for an
    invalid file the IDs it declares (``ids``) or ``None`` when it could not be parsed,
    so that references to those IDs are not reported as dangling on top."""

    file: LoadedFile | None
    diagnostics: list[Diagnostic]
    ids: dict[str, set[str]] | None


_LIST_KEYS = {"people": ("person", "people"), "systems": ("system", "systems")}
_RECORD_KINDS = {"control": "control", "sod-ruleset": "ruleset"}


def _declared_ids(data: dict[str, Any]) -> dict[str, set[str]]:
    """IDs an invalid file still clearly declares (for references from other files)."""
    kind = data.get("kind")
    if kind == "settings":  # the settings file exists: do not also say it is missing
        return {"settings": {"settings"}}
    if kind in _RECORD_KINDS and isinstance(data.get("id"), str):
        return {_RECORD_KINDS[kind]: {data["id"]}}
    if kind in _LIST_KEYS:
        ref_kind, key = _LIST_KEYS[kind]
        items = data.get(key) if isinstance(data.get(key), list) else []
        return {
            ref_kind: {
                i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)
            }
        }
    return {}


class _FileReport:
    """Diagnostics of one file, with its text for source lines."""

    def __init__(self, display: str, text: str = "") -> None:
        self.display = display
        self.text = text
        self.items: list[Diagnostic] = []

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def add(self, level: Level, line: int, column: int, message: str, key: str = "") -> None:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        where = Location(self.display, line, column)
        self.items.append(Diagnostic(level, where, message, key, source))


def find_yaml_files(root: Path) -> list[Path]:
    """YAML files under ``root`` in a stable order, skipping hidden folders and files."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(folder) / name
            for name in sorted(files)
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _decode(raw: bytes, report: _FileReport) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        report.add(Level.ERROR, line, column, "the file is not UTF-8 text (save it as UTF-8)")
        return None


def _model_for(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_for(arg)
            if found:
                return found
    return None


def _model_at(model: type[BaseModel], loc: Path_) -> type[BaseModel] | None:
    """The model class that reads the mapping at ``loc`` (list indexes are skipped)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, str):
            field = current.model_fields.get(part)
            current = _model_for(field.annotation) if field else None
    return current


def _validate(
    cls: type[Record], data: dict[str, Any], marks: SourceMap, report: _FileReport
) -> Record | None:
    """Validate ``data``; unknown keys become warnings and are dropped, the rest are errors."""
    for _attempt in range(3):
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = exc.errors(include_url=False)
        unknown = [e for e in problems if e["type"] == "extra_forbidden"]
        for error in problems:
            loc: Path_ = tuple(error["loc"])
            key = format_key(loc)
            if error["type"] == "extra_forbidden":
                mark = marks.key(loc)
                parent = _model_at(cls, loc[:-1])
                hint = did_you_mean(str(loc[-1]), parent.model_fields) if parent else ""
                report.add(Level.WARNING, mark.line, mark.column, f"unknown key '{loc[-1]}'{hint}")
            elif error["type"] == "missing":
                mark = marks.value(loc[:-1])
                parent_key = format_key(loc[:-1]) or "(file)"
                message = f"missing required key '{loc[-1]}'"
                report.add(Level.ERROR, mark.line, mark.column, message, parent_key)
            else:
                mark = marks.value(loc)
                report.add(Level.ERROR, mark.line, mark.column, friendly_error(error), key)
        if len(unknown) != len(problems):
            return None
        marks.detach()  # positions are found by walking ``data``, which changes now
        for error in unknown:  # drop the unknown keys and validate again
            target: Any = data
            *parents, last = error["loc"]
            for part in parents:
                target = target[part]
            target.pop(last, None)
    return None  # pragma: no cover - unknown keys are all removed in one pass


def attach_sources(obj: Any, file: str, path: Path_, marks: SourceMap) -> None:
    """Tell every record in ``obj`` which file and key path it was read from."""
    if isinstance(obj, Record):
        obj.attach_source(file, path, marks)
        for name in nested_fields(type(obj)):
            attach_sources(getattr(obj, name), file, (*path, name), marks)
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            attach_sources(item, file, (*path, index), marks)


def read_file(path: Path, rel: str, display: str, cache: ParseCache | None = None) -> FileOutcome:
    """Read and validate one catalog file. Never raises for bad content."""
    report = _FileReport(display)
    try:
        raw = read_regular(path)
    except Unreadable as exc:
        report.add(Level.ERROR, exc.line, 1 if exc.line else 0, exc.message)
        return FileOutcome(None, report.items, None)
    except OSError as exc:
        report.add(Level.ERROR, 0, 0, f"cannot read the file: {exc.strerror}")
        return FileOutcome(None, report.items, None)
    text = _decode(raw, report)
    if text is None:
        return FileOutcome(None, report.items, None)
    report.text = text
    try:
        doc = cache.parse(text) if cache else parse_yaml(text)
    except YamlError as exc:
        report.add(Level.ERROR, exc.mark.line, exc.mark.column, exc.message)
        return FileOutcome(None, report.items, None)
    data = doc.data
    if not isinstance(data, dict):
        report.add(Level.ERROR, 1, 1, "a catalog file must be a mapping that starts with 'kind:'")
        return FileOutcome(None, report.items, {})
    kind = data.get("kind")
    cls = FILE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        mark = doc.marks.value(("kind",)) if "kind" in data else doc.marks.value(())
        kinds = ", ".join(FILE_KINDS)
        if kind is None:
            message = f"missing 'kind:'; expected one of: {kinds}"
        else:
            message = (
                f"unknown kind {kind!r}{did_you_mean(str(kind), FILE_KINDS)} (one of: {kinds})"
            )
        report.add(Level.ERROR, mark.line, mark.column, message, "kind")
        return FileOutcome(None, report.items, None)
    record = _validate(cls, data, doc.marks, report)
    if record is None:
        return FileOutcome(None, report.items, _declared_ids(data))
    attach_sources(record, display, (), doc.marks)
    if isinstance(record, Review) and record.items_file is not None:
        if "items" in data:
            mark = doc.marks.key(("items_file",))
            message = "a review has 'items:' or 'items_file:', not both"
            report.add(Level.ERROR, mark.line, mark.column, message, "items_file")
        else:
            report.items.extend(_read_items_file(record, path, rel, display, cache))
    return FileOutcome(LoadedFile(rel, display, text, record), report.items, {})


def _read_items_file(
    review: Review, path: Path, rel: str, display: str, cache: ParseCache | None = None
) -> list[Diagnostic]:
    """Fill ``review.items`` from its ``items_file`` CSV (see :mod:`.itemscsv`): the file
    must be inside the catalog, a regular file, UTF-8, without links out. A missing file
    is no error here: EVD-2 reports it, and the review has no items."""
    from .itemscsv import MAX_ITEMS_BYTES, parse_items

    assert review.items_file is not None
    depth = rel.count("/")
    root = path.parents[depth]
    display_root = display[: len(display) - len(rel)].rstrip("/")
    items_rel = review.items_file.file
    shown = f"{display_root}/{items_rel}" if display_root else items_rel
    target = root / items_rel
    at = review.items_file.loc("file")
    if not os.path.lexists(target) or (target.is_symlink() and not target.exists()):
        return []
    refused = refused_path(target, items_rel, Path(os.path.realpath(root)))
    if refused:
        return [
            Diagnostic(Level.ERROR, at, f"items file {items_rel}: {refused}", "items_file.file")
        ]
    try:
        raw = read_regular(target, MAX_ITEMS_BYTES)
    except Unreadable as exc:
        return [
            Diagnostic(Level.ERROR, Location(shown, exc.line, 1 if exc.line else 0), exc.message)
        ]
    except OSError as exc:
        return [Diagnostic(Level.ERROR, Location(shown), f"cannot read the file: {exc.strerror}")]
    read = cache.items if cache is not None else parse_items
    items, problems = read(raw, target, shown)
    review.items = items
    return problems


def _display_root(root: Path) -> str:
    """The catalog folder as the user named it (``controls``, ``./x`` -> ``x``); an absolute
    path inside the working directory is shown relative to it, as a repository path."""
    if root.is_absolute():
        try:
            return root.relative_to(Path.cwd()).as_posix() or "."
        except ValueError:
            return root.as_posix().rstrip("/") or "/"
    return root.as_posix().rstrip("/") or "/"


def read_catalog_files(
    root: Path, display_root: str | None = None, cache: ParseCache | None = None
) -> list[FileOutcome]:
    """Read every YAML file of a catalog folder, in path order.

    Files are shown under ``display_root`` (default: ``root`` as the user named it).
    """
    if not root.exists():
        raise InputError(f"{root}: no such catalog folder")
    if not root.is_dir():
        raise InputError(f"{root}: a catalog is a folder of YAML files, not a file")
    display_root = display_root or _display_root(root)
    paths = find_yaml_files(root)
    if not paths:
        message = "no YAML files here: an empty catalog is an error, not a clean one"
        raise CatalogInvalid([Diagnostic(Level.ERROR, Location(display_root), message)])
    inside = Path(os.path.realpath(root))
    refused = {
        path: refused_path(path, path.relative_to(root).as_posix(), inside) for path in paths
    }
    readable = [path for path, message in refused.items() if message is None]
    outcomes = []
    # a cold cache: workers parse on every core; each file is read once its worker is past it
    with start_prefill(cache, root, readable) if cache is not None else Prefill([], []) as parsed:
        for path, message in refused.items():
            rel = path.relative_to(root).as_posix()
            display = f"{display_root}/{rel}" if display_root != "." else rel
            if message:
                where = Location(display, 0, 0)
                outcomes.append(FileOutcome(None, [Diagnostic(Level.ERROR, where, message)], None))
                continue
            parsed.ready(path)
            outcomes.append(read_file(path, rel, display, cache))
    return outcomes


def load_catalog(
    root: str | Path,
    *,
    strict: bool = False,
    display_root: str | None = None,
    cache: ParseCache | None = None,
) -> Catalog:
    """Load, validate and index the catalog in ``root``.

    Raises :class:`CatalogInvalid` with every error and warning when anything is
    wrong (with ``strict``, warnings count as errors). On success the warnings are
    kept on ``Catalog.warnings``. ``display_root`` is how the folder is shown in
    locations and messages (default: ``root`` as given), e.g. the repository path
    of a catalog read from a temporary checkout of a git revision. With ``cache``,
    files whose text was parsed before are not parsed again.
    """

    with loading_catalog():
        return _load(Path(root), strict, display_root, cache)


def _load(root: Path, strict: bool, display_root: str | None, cache: ParseCache | None) -> Catalog:
    display_root = display_root or _display_root(root)
    outcomes = read_catalog_files(root, display_root, cache)
    files = [o.file for o in outcomes if o.file is not None]
    diagnostics = [d for o in outcomes for d in o.diagnostics]
    salvaged: dict[str, set[str]] | None = {}
    for outcome in outcomes:
        if outcome.ids is None or salvaged is None:
            salvaged = None  # a file we could not parse may define anything
            continue
        for kind, ids in outcome.ids.items():
            salvaged.setdefault(kind, set()).update(ids)
    catalog, more = assemble(root, display_root, files, salvaged=salvaged)
    diagnostics.extend(more)
    if strict:
        diagnostics = [
            Diagnostic(Level.ERROR, d.location, d.message, d.key, d.source_line)
            if d.level == Level.WARNING
            else d
            for d in diagnostics
        ]
    diagnostics.sort(key=Diagnostic.sort_key)
    if catalog is None or any(d.level == Level.ERROR for d in diagnostics):
        raise CatalogInvalid(diagnostics)
    catalog.warnings = diagnostics
    return catalog


__all__ = ["FileOutcome", "LoadedFile", "load_catalog", "read_catalog_files"]
