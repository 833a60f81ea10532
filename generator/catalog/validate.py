"""Cross-file validation: assemble the files into a catalog and check that it hangs together.

Per-file shape is checked by the models; here we check what needs every file:
duplicate IDs, references to people / systems / controls / rule sets that do not
exist (with a "did you mean"), dates in the wrong order, overlapping owner
history, manager cycles. Gaps in *evidence* are not errors: they are findings of
the evaluation rules, so that a catalog with gaps still loads and reports them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Level, Location, did_you_mean
from ..model import (
    BreakGlassLog,
    Catalog,
    Control,
    ExceptionsFile,
    NhiInventory,
    PeopleFile,
    Record,
    Review,
    Settings,
    SodRuleset,
    SystemsFile,
    WaiversFile,
    population_systems,
)
from ..model.base import Period, nested_fields, reference_fields
from ..model.slugs import RESERVED, page_key, slug


@dataclass
class LoadedFile:
    """One file read and validated by :mod:`.loader`: its model, and how to point into it."""

    rel: str
    display: str
    text: str
    record: Record


class _Collector:
    def __init__(self, sources: dict[str, list[str]]) -> None:
        self.items: list[Diagnostic] = []
        self._sources = sources

    def add(self, level: Level, where: Location, message: str, key: str = "") -> None:
        lines = self._sources.get(where.file, [])
        source = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
        self.items.append(Diagnostic(level, where, message, key, source))

    def error(self, where: Location, message: str, key: str = "") -> None:
        self.add(Level.ERROR, where, message, key)

    def warning(self, where: Location, message: str, key: str = "") -> None:
        self.add(Level.WARNING, where, message, key)


def _index(
    records: Iterable[Record], what: str, out: _Collector, key: str = "id"
) -> dict[str, Any]:
    """Records by ID, in ID order; a second record with the same ID is an error."""
    found: dict[str, Any] = {}
    for record in records:
        ident = getattr(record, key)
        if ident in found:
            first = found[ident].loc(key)
            out.error(record.loc(key), f"duplicate {what} ID '{ident}' (first defined at {first})")
            continue
        found[ident] = record
    return dict(sorted(found.items()))


def _walk(obj: Any) -> dict[type[Record], list[Record]]:
    """Every record in ``obj`` (records and lists of them, nested), by class.

    A review holds thousands of items of one class: each list is taken a class at a time,
    its records' nested fields read by C-level ``map``, not record by record."""
    found: dict[type[Record], list[Record]] = {}
    stack: list[Any] = [[obj]]
    while stack:
        values: list[Any] = stack.pop()
        classes = set(map(type, values))
        for cls in classes:
            group = values if len(classes) == 1 else [v for v in values if type(v) is cls]
            if issubclass(cls, Record):
                found.setdefault(cls, []).extend(group)
                for name in nested_fields(cls):
                    stack.append([v for v in map(attrgetter(name), group) if v is not None])
            elif issubclass(cls, list):
                stack.extend(group)
    return found


def _records(catalog: Catalog) -> dict[type[Record], list[Record]]:
    """Every record of the catalog, nested ones included, by class."""
    roots: list[Any] = [
        catalog.settings,
        list(catalog.people.values()),
        list(catalog.systems.values()),
        list(catalog.controls.values()),
        list(catalog.reviews.values()),
        list(catalog.rulesets.values()),
        list(catalog.exceptions.values()),
        list(catalog.break_glass.values()),
        list(catalog.nhis.values()),
        list(catalog.waivers.values()),
    ]
    return _walk(roots)


def _check_references(
    catalog: Catalog,
    records: dict[type[Record], list[Record]],
    out: _Collector,
    salvaged: dict[str, set[str]],
) -> None:
    """Every reference names a record that exists. A field's values are compared with the
    known IDs as one set first (hundreds of thousands of items name a decider each); only
    a field with an unknown value is walked record by record to place the error."""
    known = {
        "person": set(catalog.people) | salvaged.get("person", set()),
        "system": set(catalog.systems) | salvaged.get("system", set()),
        "control": set(catalog.controls) | salvaged.get("control", set()),
        "ruleset": set(catalog.rulesets) | salvaged.get("ruleset", set()),
    }
    for cls, group in records.items():
        for name, kind in reference_fields(cls):
            values = list(map(attrgetter(name), group))
            try:
                refs = set(values)
            except TypeError:  # a list of references
                refs = {ref for value in values if value is not None for ref in value}
            refs.discard(None)
            if refs <= known[kind]:
                continue
            for record, value in zip(group, values, strict=True):
                if value is None:
                    continue
                refs = value if isinstance(value, list) else [value]
                for index, ref in enumerate(refs):
                    if ref in known[kind]:
                        continue
                    where = record.loc(name, index) if isinstance(value, list) else record.loc(name)
                    hint = did_you_mean(ref, known[kind])
                    out.error(where, f"unknown {kind} '{ref}'{hint}", name)


def _check_item_systems(catalog: Catalog, out: _Collector) -> None:
    """In a review over several systems every item names its system, one of the review's."""
    for review in catalog.reviews.values():
        control = catalog.controls.get(review.control)
        population = control.population(review.population) if control else None
        evidence = review.evidence
        systems = (evidence.systems if evidence else []) or (
            population_systems(population) if population else []
        )
        if len(systems) < 2:
            continue
        for index, item in enumerate(review.items):
            if item.system is None:
                out.error(
                    item.loc("account"),
                    f"review '{review.id}' covers {', '.join(systems)}: say which system "
                    f"account '{item.account}' is in (system: …)",
                    f"items[{index}].system",
                )
            elif item.system not in systems:
                out.error(
                    item.loc("system"),
                    f"system '{item.system}' is not one the review covers ({', '.join(systems)})",
                    f"items[{index}].system",
                )


SIGN_OFF_LISTED = 10
"""Incomplete items listed one by one for a signed-off review; the rest are counted."""

_DECIDED = ("decision", "decided_by", "decided_at")


def _check_sign_off(catalog: Catalog, out: _Collector) -> None:
    """Policy as code: ``sign_off`` (the owner's attestation that the review is complete)
    is refused while any item lacks its decision, reviewer or date. An open review (no
    sign-off) may have gaps; EVD-1 reports them as findings."""
    for review in catalog.reviews.values():
        if review.sign_off is None:
            continue
        incomplete = [
            (item, [n for n in _DECIDED if getattr(item, n) is None])
            for item in review.items
            if item.decision is None or item.decided_by is None or item.decided_at is None
        ]
        for item, missing in incomplete[:SIGN_OFF_LISTED]:
            out.error(
                item.loc(missing[0]),
                f"review '{review.id}' is signed off, but the decision on account "
                f"'{item.account}' has no {', '.join(missing)}",
                "sign_off",
            )
        if len(incomplete) > SIGN_OFF_LISTED:
            out.error(
                review.loc("sign_off"),
                f"review '{review.id}' is signed off with {len(incomplete):,} incomplete "
                f"decisions (the first {SIGN_OFF_LISTED} are listed; "
                f"{len(incomplete) - SIGN_OFF_LISTED:,} more): complete them, or remove "
                "sign_off until the review is complete",
                "sign_off",
            )


def _check_retention(catalog: Catalog, out: _Collector) -> None:
    """Retention is stated once: in years or in months, not both."""
    for record in (catalog.settings, *catalog.controls.values()):
        if (
            record.evidence_retention_years is not None
            and record.evidence_retention_months is not None
        ):
            out.error(
                record.loc("evidence_retention_months"),
                "state evidence retention in years or in months, not both",
                "evidence_retention_months",
            )


def _check_dates(
    catalog: Catalog, records: dict[type[Record], list[Record]], out: _Collector
) -> None:
    def order(record: Record, first: str, second: str, what: str) -> None:
        a, b = getattr(record, first), getattr(record, second)
        if a is None or b is None:
            return
        if isinstance(a, datetime) != isinstance(b, datetime):
            a = a.date() if isinstance(a, datetime) else a
            b = b.date() if isinstance(b, datetime) else b
        if a > b:
            out.error(record.loc(second), f"{what}: {second} {b} is before {first} {a}", second)

    for cls, group in records.items():
        if issubclass(cls, Period):
            for record in group:
                order(record, "start", "end", "period")
    for person in catalog.people.values():
        order(person, "employed_from", "employed_until", f"person '{person.id}'")
    for review in catalog.reviews.values():
        order(review, "started", "completed", f"review '{review.id}'")
    for exc in catalog.exceptions.values():
        order(exc, "granted", "expires", f"exception '{exc.id}'")
    for event in catalog.break_glass.values():
        order(event, "started", "ended", f"break-glass event '{event.id}'")
    for system in catalog.systems.values():
        for term in system.administrator_history:
            order(term, "since", "until", f"administrator '{term.person}' of {system.id}")
    for control in catalog.controls.values():
        for entry in control.owners:
            order(entry, "since", "until", f"owner '{entry.person}' of {control.id}")
        _check_owner_overlap(control, out)


def _check_owner_overlap(control: Control, out: _Collector) -> None:
    entries = sorted(control.owners, key=lambda o: o.since)
    for before, after in itertools.pairwise(entries):
        end = before.until or date.max
        if after.since <= end:
            out.error(
                after.loc("since"),
                f"owner history of {control.id} overlaps: '{after.person}' from {after.since} "
                f"while '{before.person}' owns it until {before.until or 'open-ended'}; "
                "a control has one accountable owner at a time",
                "owners",
            )


def _check_scoped_ids(catalog: Catalog, out: _Collector) -> None:
    for control in catalog.controls.values():
        _index(control.populations, f"population (in {control.id})", out)
        for population in control.populations:
            system = population.system
            if system and control.systems and system not in control.systems:
                out.warning(
                    population.loc("system"),
                    f"population '{population.id}' reviews system '{system}', which is not "
                    f"listed in the systems of {control.id}",
                    "system",
                )
    for review in catalog.reviews.values():
        control = catalog.controls.get(review.control)
        if control and control.population(review.population) is None:
            hint = did_you_mean(review.population, [p.id for p in control.populations])
            out.error(
                review.loc("population"),
                f"control {control.id} has no population '{review.population}'{hint}",
                "population",
            )
    for ruleset in catalog.rulesets.values():
        duties = _index(ruleset.duties, f"duty (in {ruleset.id})", out)
        for number, conflict in enumerate(ruleset.conflicts):
            for index, duty in enumerate(conflict.duties):
                if duty not in duties:
                    hint = did_you_mean(duty, duties)
                    out.error(
                        conflict.loc("duties", index),
                        f"rule set {ruleset.id} has no duty '{duty}'{hint}",
                        f"conflicts[{number}].duties",
                    )
    for exc in catalog.exceptions.values():
        ruleset = catalog.rulesets.get(exc.ruleset)
        if ruleset is None:
            continue
        pairs = {frozenset(c.duties) for c in ruleset.conflicts}
        if frozenset(exc.conflict) not in pairs:
            out.error(
                exc.loc("conflict"),
                f"{' + '.join(exc.conflict)} is not a conflict of rule set {ruleset.id}",
                "conflict",
            )


def _check_managers(catalog: Catalog, out: _Collector) -> None:
    reported: set[frozenset[str]] = set()
    for person in catalog.people.values():
        chain = [person.id]
        current = person.manager
        while current is not None and current in catalog.people and current not in chain:
            chain.append(current)
            current = catalog.people[current].manager
        if current != person.id or frozenset(chain) in reported:
            continue  # no loop, or one that does not pass through this person, or said already
        reported.add(frozenset(chain))
        loop = " -> ".join([*chain, person.id])
        out.error(person.loc("manager"), f"manager chain loops: {loop}", "manager")


def _written_order(record: Record) -> tuple[str, tuple[tuple[bool, str | int], ...]]:
    """Sorts records of one kind as ``record.loc("id")`` would (file, then where in it),
    without looking up a position: the records of one kind in a file are the elements of
    one list, written in index order, and looking up a position hops over every element
    before it (50,000 people cost 30 s that way)."""
    source = record._source
    if source is None:
        return "<unknown>", ()
    return source.file, tuple((isinstance(part, int), part) for part in source.path)


def _check_page_names(catalog: Catalog, out: _Collector) -> None:
    """Every control, person and system gets a page (and a control a PDF) named after its
    ID by :func:`~generator.model.slugs.slug`; two IDs with the same name would silently
    write one page over the other, and ``index`` would replace the section's list."""
    kinds: list[tuple[str, str, Iterable[Any]]] = [
        ("control", "controls", catalog.controls.values()),
        ("person", "people", catalog.people.values()),
        ("system", "systems", catalog.systems.values()),
    ]
    for what, folder, records in kinds:
        seen: dict[str, Any] = {}
        for record in sorted(records, key=_written_order):
            key = page_key(record.id)
            page = f"{folder}/{slug(record.id)}.md"
            if key in RESERVED:
                out.error(
                    record.loc("id"),
                    f"{what} ID '{record.id}' would get the page {page}, which is the list "
                    f"of all {folder}; choose another ID",
                    "id",
                )
            elif key in seen:
                first = seen[key]
                other = f"{folder}/{slug(first.id)}.md"
                clash = (
                    f"both get the page {page}"
                    if other == page
                    else f"get the pages {other} and {page}, one file where case is ignored "
                    "(macOS, Windows)"
                )
                out.error(
                    record.loc("id"),
                    f"{what} IDs '{first.id}' (at {first.loc('id')}) and '{record.id}' would "
                    f"{clash}: IDs must differ in more than punctuation or upper/lower case",
                    "id",
                )
            else:
                seen[key] = record


def _check_waivers(catalog: Catalog, out: _Collector) -> None:
    for waiver in catalog.waivers.values():
        if not re.fullmatch(r"[A-Z]{2,5}-\d{1,3}", waiver.rule):
            out.error(waiver.loc("rule"), f"'{waiver.rule}' is not a rule ID like 'CAD-2'", "rule")


def assemble(
    root: Path,
    display_root: str,
    files: list[LoadedFile],
    *,
    salvaged: dict[str, set[str]] | None = None,
) -> tuple[Catalog | None, list[Diagnostic]]:
    """Build the :class:`Catalog` from validated files and check it as a whole.

    ``salvaged`` holds IDs declared by files that failed validation, so that
    references to them are not reported again; ``None`` means a file could not be
    parsed at all, and then reference checks wait until it is fixed.
    """
    out = _Collector({f.display: f.text.splitlines() for f in files})
    by_kind: dict[type, list[Any]] = {}
    for file in files:
        by_kind.setdefault(type(file.record), []).append(file.record)

    settings: list[Settings] = by_kind.get(Settings, [])
    if not settings:
        if salvaged is None or not salvaged.get("settings"):  # else its errors say it all
            where = Location(display_root)
            out.error(
                where, "no settings file: add one file with 'kind: settings' (see controlbook init)"
            )
        return None, out.items
    for extra in settings[1:]:
        out.error(extra.loc("kind"), f"a second settings file (the first is {settings[0].loc()})")

    def records(kind: type, attribute: str) -> list[Any]:
        return [item for file in by_kind.get(kind, []) for item in getattr(file, attribute)]

    catalog = Catalog(
        root=root,
        display_root=display_root,
        settings=settings[0],
        people=_index(records(PeopleFile, "people"), "person", out),
        systems=_index(records(SystemsFile, "systems"), "system", out),
        controls=_index(by_kind.get(Control, []), "control", out),
        reviews=_index(by_kind.get(Review, []), "review", out),
        rulesets=_index(by_kind.get(SodRuleset, []), "rule set", out),
        exceptions=_index(records(ExceptionsFile, "exceptions"), "exception", out),
        break_glass=_index(records(BreakGlassLog, "events"), "break-glass event", out),
        nhis=_index(records(NhiInventory, "identities"), "non-human identity", out),
        waivers=_index(records(WaiversFile, "waivers"), "waiver", out),
        files=tuple(f.rel for f in files),
    )
    if not catalog.controls and salvaged is not None and not salvaged.get("control"):
        out.error(Location(display_root), "no controls: add at least one file with 'kind: control'")
    every = _records(catalog)
    if salvaged is not None:
        _check_references(catalog, every, out, salvaged)
    _check_dates(catalog, every, out)
    _check_retention(catalog, out)
    _check_item_systems(catalog, out)
    _check_sign_off(catalog, out)
    _check_scoped_ids(catalog, out)
    _check_managers(catalog, out)
    _check_waivers(catalog, out)
    _check_page_names(catalog, out)
    return catalog, out.items
