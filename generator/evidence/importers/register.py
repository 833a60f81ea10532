"""``controlbook import``: keep the raw export, write the normalised extract, and register
it under the system's ``extracts:``, all or nothing.

* Everything is computed in memory first: raw bytes, the extract CSV, the details sidecar,
  the mapping copy, and the new text of the systems file (the new entry appended to the
  system's ``extracts:`` list, every other byte, comment and blank line kept). The new
  text is parsed again and must be the old document plus exactly that entry.
* Files are written under temporary hidden names in their own folders, then renamed into
  place, the systems file last; an error or an interruption removes what was written, so
  the catalog is as before. (Killed between two renames, the catalog is still valid: the
  files written so far are not registered yet, and the next run writes them again.)
* Names come from the extraction time and the format (``extracts/<system>/<date>-<format>.csv``,
  ``evidence/raw/<system>/<date>-<format>.<ext>``), and every output is sorted, so the
  same export imported again changes no byte; a name already holding something else
  moves to ``<date>T<time>Z-<format>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ...catalog.loader import load_catalog
from ...catalog.parsecache import ParseCache
from ...catalog.yamlsrc import YamlError, parse_yaml
from ...diagnostics import did_you_mean
from ...errors import InputError
from ...model import AccountType, Catalog, Extract, ExtractKind
from ...model.base import EARLIEST, LATEST
from ..catalogwrite import (
    block_end,
    commit_files,
    file_of,
    folder_name,
    read_raw,
    same_bytes,
    yaml_scalar,
)
from .core import (
    AccountMapping,
    Importer,
    apply_mapping,
    mapping_json,
    merge,
    normalise,
    read_mapping,
    utc_text,
)
from .registry import importer_for


@dataclass(frozen=True)
class ImportRequest:
    """What ``controlbook import`` was asked to do."""

    format: str
    files: tuple[Path, ...]
    catalog: Path
    systems: tuple[str, ...]
    scope: tuple[AccountType, ...] = ()
    kind: ExtractKind = ExtractKind.ACCOUNTS
    extracted_at: datetime | None = None
    source: str | None = None
    mapping: Path | None = None


@dataclass(frozen=True)
class ImportResult:
    """What the import wrote (display paths), or found already there."""

    extract: str
    raw: tuple[str, ...]
    details: str | None
    mapping: str | None
    registered: str
    """``file:line`` of the entry under ``extracts:``."""
    records: int
    accounts: int
    left_out: int
    without_person: tuple[str, ...]
    notes: tuple[str, ...]
    extracted_at: datetime
    written: tuple[str, ...]
    """Files written or changed; empty when the same import was already there."""

    @property
    def unchanged(self) -> bool:
        return not self.written


class RegistrationError(InputError):
    """The systems file could not be edited safely; the message shows the entry to add."""


def run_import(request: ImportRequest, cache: ParseCache | None = None) -> ImportResult:
    """Import ``request.files`` into the catalog (see the module docstring)."""
    importer = importer_for(request.format)
    catalog = load_catalog(request.catalog, cache=cache)
    systems = _check_systems(catalog, request, importer)
    if importer.mapping_required and request.mapping is None:
        raise InputError(f"the {importer.name} format needs --mapping FILE (see docs/importing.md)")
    mapping = read_mapping(request.mapping, importer.mapping_model)
    raws = [read_raw(path) for path in request.files]
    parsed = merge(
        [
            importer.parse(raw, str(path), mapping)
            for path, raw in zip(request.files, raws, strict=True)
        ]
    )
    extracted_at = _extracted_at(
        importer, parsed.extracted_at, request.extracted_at, parsed.time_is_lower_bound
    )
    result = normalise(
        apply_mapping(parsed.rows, mapping),
        systems=systems,
        scope=request.scope,
        details=parsed.details,
    )
    mapping_bytes = mapping_json(mapping) if request.mapping is not None else None
    plan = _plan_files(
        catalog, importer, systems[0], extracted_at, raws, result.csv, result.details, mapping_bytes
    )
    record = _record(request, importer, mapping, parsed.about, systems, extracted_at, result, plan)
    system = catalog.systems[systems[0]]
    rel = file_of(catalog, system.source_file)
    target = catalog.root / rel
    old = target.read_bytes()
    edit = _register(old, catalog.display_path(rel), systems[0], record)
    writes = [
        (path, data) for path, data in plan.files if not same_bytes(catalog.root / path, data)
    ]
    if edit.new is not None:
        writes.append((rel, edit.new))
    commit_files(catalog.root, writes, guard=(rel, old))
    return ImportResult(
        extract=catalog.display_path(plan.extract),
        raw=tuple(catalog.display_path(p) for p in plan.raw),
        details=catalog.display_path(plan.details) if plan.details else None,
        mapping=catalog.display_path(plan.mapping) if plan.mapping else None,
        registered=f"{catalog.display_path(rel)}:{edit.line}",
        records=result.records,
        accounts=result.accounts,
        left_out=result.left_out,
        without_person=result.without_person,
        notes=tuple(parsed.notes),
        extracted_at=extracted_at,
        written=tuple(catalog.display_path(p) for p, _ in writes),
    )


# --- inputs ------------------------------------------------------------------------------


def _check_systems(catalog: Catalog, request: ImportRequest, importer: Importer) -> list[str]:
    systems = list(dict.fromkeys(request.systems))
    for system in systems:
        if system not in catalog.systems:
            hint = did_you_mean(system, catalog.systems)
            raise InputError(f"--system {system!r} is not a system of {catalog.display_root}{hint}")
    if len(systems) > 1 and not importer.several_systems:
        raise InputError(
            f"the {importer.name} format reads one system; give --system once "
            "(the csv format reads an export over several systems, with a system column)"
        )
    return systems


def _extracted_at(
    importer: Importer, carried: datetime | None, given: datetime | None, log: bool = False
) -> datetime:
    if log and carried is not None and given is not None:
        if utc_text(given) < utc_text(carried):
            raise InputError(
                f"the log holds an event at {utc_text(carried)}, after --extracted-at "
                f"{utc_text(given)}; give the time the log was exported, or leave it out"
            )
    elif carried is not None and given is not None and utc_text(carried) != utc_text(given):
        raise InputError(
            f"the export says it was generated at {utc_text(carried)}, not at --extracted-at "
            f"{utc_text(given)}; leave --extracted-at out"
        )
    moment = (given or carried) if log else (carried or given)
    if moment is None:
        raise InputError(
            f"a {importer.title} does not say when it was taken: give --extracted-at "
            "(e.g. 2026-09-30T18:00:00Z)"
        )
    if not EARLIEST <= moment.date() <= LATEST:
        raise InputError(f"extraction time {utc_text(moment)} is outside the supported dates")
    return datetime.fromisoformat(utc_text(moment).replace("Z", "+00:00"))


# --- file names ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    extract: str
    raw: tuple[str, ...]
    details: str | None
    mapping: str | None
    files: tuple[tuple[str, bytes], ...]
    """Every file of the import with its bytes (some may already be there, identical)."""


def _plan_files(
    catalog: Catalog,
    importer: Importer,
    system: str,
    extracted_at: datetime,
    raws: Sequence[bytes],
    extract: bytes,
    details: bytes | None,
    mapping: bytes | None,
) -> _Plan:
    folder = folder_name(system)
    stems = (
        f"{extracted_at:%Y-%m-%d}-{importer.name}",
        f"{extracted_at:%Y-%m-%dT%H%M%SZ}-{importer.name}",
    )
    taken: list[str] = []
    for stem in stems:
        raw_dir, out_dir = f"evidence/raw/{folder}", f"extracts/{folder}"
        raw_names = (
            [f"{raw_dir}/{stem}{importer.suffix(raws[0])}"]
            if len(raws) == 1
            else [f"{raw_dir}/{stem}.part{n}{importer.suffix(r)}" for n, r in enumerate(raws, 1)]
        )
        files = [(f"{out_dir}/{stem}.csv", extract), *zip(raw_names, raws, strict=True)]
        if details is not None:
            files.append((f"{out_dir}/{stem}.details.csv", details))
        if mapping is not None:
            files.append((f"{raw_dir}/{stem}.mapping.json", mapping))
        clash = [
            p
            for p, data in files
            if (catalog.root / p).exists() and not same_bytes(catalog.root / p, data)
        ]
        if not clash:
            return _Plan(
                files[0][0],
                tuple(raw_names),
                f"{out_dir}/{stem}.details.csv" if details is not None else None,
                f"{raw_dir}/{stem}.mapping.json" if mapping is not None else None,
                tuple(files),
            )
        taken.append(catalog.display_path(clash[0]))
    raise InputError(
        f"{' and '.join(taken)} already hold another import of {system} taken at "
        f"{utc_text(extracted_at)}; remove them (and their entry under extracts:) to import again"
    )


# --- the extract record --------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record(
    request: ImportRequest,
    importer: Importer,
    mapping: AccountMapping,
    about: str,
    systems: list[str],
    extracted_at: datetime,
    result: Any,
    plan: _Plan,
) -> dict[str, Any]:
    """The entry under ``extracts:``, in the order it is written."""
    files = dict(plan.files)
    source = request.source or mapping.source or ", ".join(filter(None, (importer.title, about)))
    record: dict[str, Any] = {"file": plan.extract, "kind": str(request.kind)}
    if request.scope:
        ordered = [t for t in AccountType if t in request.scope]
        record["scope"] = [str(t) for t in ordered]
    if len(systems) > 1:
        record["systems"] = systems
    record.update(
        source=source,
        extracted_at=utc_text(extracted_at),
        records=result.records,
        sha256=_sha(files[plan.extract]),
    )
    origin: dict[str, Any] = {
        "importer": importer.ident,
        "raw": [{"file": p, "sha256": _sha(files[p])} for p in plan.raw],
    }
    if plan.mapping is not None:
        origin["mapping"] = {"file": plan.mapping, "sha256": _sha(files[plan.mapping])}
    if plan.details is not None:
        origin["details"] = {"file": plan.details, "sha256": _sha(files[plan.details])}
    record["derived_from"] = origin
    try:
        Extract.model_validate(record)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InputError(
            f"the extract entry would be invalid: {first['msg']} ({first['loc']})"
        ) from None
    if "\n" in source or "\r" in source:
        raise InputError("--source is one line of text")
    return record


# --- registering in the systems file ------------------------------------------------------


def _entry(record: dict[str, Any]) -> list[str]:
    """The entry as YAML lines, unindented: the first line is the list item's."""
    lines = []
    for key, value in record.items():
        if key == "derived_from":
            lines.append("derived_from:")
            lines.append(f"  importer: {yaml_scalar(value['importer'])}")
            lines.append("  raw:")
            for raw in value["raw"]:
                lines.append(f"    - file: {yaml_scalar(raw['file'])}")
                lines.append(f"      sha256: {raw['sha256']}")
            for part in ("mapping", "details"):
                if part in value:
                    lines.append(f"  {part}:")
                    lines.append(f"    file: {yaml_scalar(value[part]['file'])}")
                    lines.append(f"    sha256: {value[part]['sha256']}")
        elif isinstance(value, list):
            lines.append(f"{key}: [{', '.join(yaml_scalar(v, flow=True) for v in value)}]")
        elif key == "extracted_at":
            lines.append(f"{key}: {value}")  # a YAML timestamp, as people write them
        else:
            lines.append(f"{key}: {yaml_scalar(value)}")
    return lines


@dataclass(frozen=True)
class _Edit:
    new: bytes | None
    """The new systems file, or None when the same entry is there already."""
    line: int
    """Line of the entry in the (new) file."""


def _register(old: bytes, shown: str, system: str, record: dict[str, Any]) -> _Edit:
    lines_yaml = _entry(record)
    by_hand = "\n".join(["  - " + lines_yaml[0], *("    " + line for line in lines_yaml[1:])])

    def refuse(why: str) -> RegistrationError:
        return RegistrationError(
            f"{shown}: {why}; nothing was written. Add the entry under extracts: of "
            f"{system} by hand after importing with the same options, or fix the file:\n{by_hand}"
        )

    bom = old.startswith(b"\xef\xbb\xbf")
    try:
        text = old.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("not UTF-8 text") from None
    if re.search("[\x0b\x0c\x85\u2028\u2029]", text):
        raise refuse("unusual line breaks")
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        raise refuse(f"line {exc.mark.line}: {exc.message}") from None
    data = doc.data
    entries = data.get("systems") if isinstance(data, dict) else None
    index = next(
        (i for i, s in enumerate(entries or []) if isinstance(s, dict) and s.get("id") == system),
        None,
    )
    if index is None:
        raise refuse(f"system {system} not found")
    item = parse_yaml("\n".join(lines_yaml) + "\n").data
    current = entries[index].get("extracts")
    if isinstance(current, list):
        for position, existing in enumerate(current):
            if isinstance(existing, dict) and existing.get("file") == record["file"]:
                line = doc.marks.value(("systems", index, "extracts", position)).line
                if _same_entry(existing, item):
                    return _Edit(None, line)
                raise InputError(
                    f"{shown}:{line}: {record['file']} is already registered with other "
                    "values; remove that entry (and the files) to import again"
                )
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    path = ("systems", index, "extracts")
    if isinstance(current, list) and current:
        mark = doc.marks.value((*path, len(current) - 1))
        before = lines[mark.line - 1][: mark.column - 1].rstrip()
        if not before.endswith("-") or before[:-1].strip():
            raise refuse("the last entry under extracts: is not written '- key: value'")
        dash, key = len(before) - 1, mark.column - 1
        after = block_end(lines, mark.line - 1, dash + 1)
        head: list[str] = []
    elif current is None or current == []:
        if current == [] or "extracts" in entries[index]:
            key_mark = doc.marks.key(path)
            line_index = key_mark.line - 1
            if current == []:
                value_mark = doc.marks.value(path)
                row = lines[value_mark.line - 1]
                found = re.match(r"\[\s*\]", row[value_mark.column - 1 :])
                if value_mark.line != key_mark.line or found is None:
                    raise refuse("extracts: [] is not written on one line")
                start = value_mark.column - 1
                lines[line_index] = (row[:start].rstrip() + row[start + found.end() :]).rstrip(" ")
                if not lines[line_index].endswith(("\n", "\r")):
                    lines[line_index] += newline
            dash, after, head = key_mark.column - 1 + 2, line_index, []
        else:
            mark = doc.marks.value(("systems", index))
            column = mark.column - 1
            after = block_end(lines, mark.line - 1, column)
            dash, head = column + 2, [" " * column + "extracts:" + newline]
        key = dash + 2
    else:
        raise refuse("extracts: is not a list written one entry per line")
    block = [
        " " * dash + "-" + " " * (key - dash - 1) + lines_yaml[0] + newline,
        *(" " * key + line + newline for line in lines_yaml[1:]),
    ]
    new_lines = [*lines[: after + 1], *head, *block, *lines[after + 1 :]]
    new_text = "".join(new_lines)
    expected = json.loads(json.dumps(data, default=str))
    expected["systems"][index]["extracts"] = [*(current or []), item]
    expected = json.loads(json.dumps(expected, default=str))
    try:
        reread = json.loads(json.dumps(parse_yaml(new_text).data, default=str))
    except YamlError:
        reread = None
    if reread != expected:
        raise refuse("its layout is unusual and the entry could not be added safely")
    return _Edit(("\ufeff" if bom else "").encode() + new_text.encode(), after + 2 + len(head))


def _same_entry(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    try:
        return Extract.model_validate(existing) == Extract.model_validate(new)
    except ValidationError:
        return False


# --- writing all or nothing ------------------------------------------------------------
