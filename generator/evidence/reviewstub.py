"""``controlbook review new``: a review to be decided, written from an imported extract.

The population evidence (file, source, extraction time, rows, sha256 and where it came
from) is copied from the extract's record, so nobody types it again; the items are the
extract's rows of the population (its systems and account types), one per account and
entitlement, each with its decision left empty. A reviewer then only records decisions.
The stub validates as it is; until the decisions are in, EVD-1 lists what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..errors import InputError
from ..model import Catalog, Control, Extract, ExtractKind, Frequency, Period, Population
from ..model.controls import population_systems
from .catalogwrite import commit_files, yaml_scalar
from .extracts import ExtractError, ExtractStore, utc_day


@dataclass(frozen=True)
class ReviewStub:
    """What was written: the review file (from the catalog) and its item count."""

    file: str
    review_id: str
    items: int
    period: Period


def period_of(frequency: Frequency, day: date) -> Period:
    """The review period of a periodic control that contains ``day`` (quarters and halves
    of the calendar year); a control of another frequency needs ``--period``."""
    months = frequency.months
    if months is None:
        raise InputError(
            f"a {frequency} control has no review period of its own: give --period START..END"
        )
    first = (day.month - 1) // months * months + 1
    start = date(day.year, first, 1)
    nxt = date(day.year + (first - 1 + months) // 12, (first - 1 + months) % 12 + 1, 1)
    return Period(start=start, end=nxt - timedelta(days=1))


def label_of(frequency: Frequency | None, period: Period) -> str:
    """``2026Q3``, ``2026H2``, ``2026-09`` or ``2026`` for a calendar period of the
    control's frequency, else ``2026-07-01..2026-09-30``."""
    start, end = period.start, period.end
    months = frequency.months if frequency is not None else None
    if months is not None and frequency is not None and period_of(frequency, start) == period:
        return {
            1: f"{start:%Y-%m}",
            3: f"{start.year}Q{(start.month - 1) // 3 + 1}",
            6: f"{start.year}H{(start.month - 1) // 6 + 1}",
            12: f"{start.year}",
        }[months]
    return f"{start.isoformat()}..{end.isoformat()}"


def _registered(catalog: Catalog, rel: str, systems: list[str]) -> Extract:
    """The extract's record under ``extracts:`` of one of the population's systems."""
    wanted = rel.replace("\\", "/").removeprefix("./")
    for system in systems:
        for extract in catalog.systems[system].extracts:
            if extract.file == wanted:
                return extract
    listed = sorted(
        e.file
        for s in systems
        for e in catalog.systems[s].extracts
        if e.file and e.kind is ExtractKind.ACCOUNTS
    )
    hint = f"; its accounts extracts: {', '.join(listed[-5:])}" if listed else ""
    raise InputError(
        f"{rel} is not an extract listed under extracts: of {', '.join(systems)}{hint}"
    )


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stub_text(
    control: Control,
    population: Population,
    review_id: str,
    period: Period,
    extract: Extract,
    items: list[tuple[str, str, str]],
    reviewers: list[str],
) -> str:
    """The review as YAML text, in the order people write reviews."""
    systems = population_systems(population)
    lines = [
        "# yaml-language-server: $schema=../../controlbook.schema.json",
        f"# {label_of(control.frequency, period)} review of population '{population.id}' "
        f"for {control.id},",
        f"# written by controlbook review new from {extract.file}.",
        "# Record a decision (keep, revoke or modify), decided_by and decided_at for each",
        "# item; a revoke or modify also needs remediation: {ticket: …, completed: …}.",
        "kind: review",
        f"id: {yaml_scalar(review_id)}",
        f"control: {yaml_scalar(control.id)}",
        f"population: {yaml_scalar(population.id)}",
        "period:",
        f"  start: {period.start.isoformat()}",
        f"  end: {period.end.isoformat()}",
    ]
    if reviewers:
        lines.append(f"reviewers: [{', '.join(yaml_scalar(r) for r in reviewers)}]")
    lines.append("evidence:  # the population as reviewed (IPE), from the extract's record")
    if len(systems) == 1:
        lines.append(f"  system: {yaml_scalar(systems[0])}")
    else:
        lines.append(f"  systems: [{', '.join(yaml_scalar(s) for s in systems)}]")
    if extract.source:
        lines.append(f"  source: {yaml_scalar(extract.source)}")
    if extract.extracted_at:
        lines.append(f"  extracted_at: {_moment(extract.extracted_at)}")
    if extract.records is not None:
        lines.append(f"  records: {extract.records}")
    lines.append(f"  file: {yaml_scalar(extract.file)}")
    if extract.sha256:
        lines.append(f"  sha256: {extract.sha256}")
    if extract.scope:
        lines.append(f"  scope: [{', '.join(str(t) for t in extract.scope)}]")
    if extract.derived_from is not None:
        origin = extract.derived_from
        lines.append("  derived_from:")
        lines.append(f"    importer: {yaml_scalar(origin.importer)}")
        lines.append("    raw:")
        for raw in origin.raw:
            lines.append(f"      - file: {yaml_scalar(raw.file)}")
            lines.append(f"        sha256: {raw.sha256}")
        for name, part in (("mapping", origin.mapping), ("details", origin.details)):
            if part is not None:
                lines.append(f"    {name}:")
                lines.append(f"      file: {yaml_scalar(part.file)}")
                lines.append(f"      sha256: {part.sha256}")
    if not items:
        lines.append("items: []  # the extract shows no account of this population")
    else:
        lines.append("items:")
    for system, account, entitlement in items:
        lines.append(f"  - account: {yaml_scalar(account)}")
        if system:
            lines.append(f"    system: {yaml_scalar(system)}")
        if entitlement:
            lines.append(f"    entitlement: {yaml_scalar(entitlement)}")
        lines.append("    decision:")
        lines.append("    decided_by:")
        lines.append("    decided_at:")
    return "\n".join(lines) + "\n"


def new_review(
    catalog: Catalog,
    control_id: str,
    population_id: str,
    extract_file: str,
    *,
    period: Period | None = None,
    review_id: str | None = None,
    reviewers: tuple[str, ...] = (),
) -> ReviewStub:
    """Write ``reviews/<period>/<ID>.yaml`` for the population from the extract; refuses
    (nothing written) what the catalog would not accept."""
    control = catalog.controls.get(control_id)
    if control is None:
        raise InputError(f"no control {control_id!r} in {catalog.root}")
    population = control.population(population_id)
    if population is None:
        known = ", ".join(p.id for p in control.populations) or "none"
        raise InputError(f"{control_id} has no population {population_id!r} (it has: {known})")
    systems = population_systems(population)
    if not systems:
        raise InputError(f"population {population_id!r} of {control_id} names no system (POP-1)")
    extract = _registered(catalog, extract_file, systems)
    if extract.kind is not ExtractKind.ACCOUNTS:
        raise InputError(f"{extract.file} is a {extract.kind} extract, not an accounts snapshot")
    for person in reviewers:
        if person not in catalog.people:
            raise InputError(f"reviewer {person!r} is not a person of the directory")
    assert extract.file is not None
    store = ExtractStore(catalog)
    check = store.check(extract.file)
    if not check.exists:
        raise InputError(f"{extract.file} is missing")
    if extract.sha256 and check.sha256 != extract.sha256:
        raise InputError(
            f"{extract.file} no longer has its recorded sha256 (EVD-2): a review of it "
            "would review something else than what was taken"
        )
    if period is None:
        if extract.extracted_at is None:
            raise InputError(f"{extract.file} has no extracted_at: give --period START..END")
        period = period_of(control.frequency, utc_day(extract.extracted_at))
    review_id = review_id or f"{control.id}-{population.id}-{label_of(control.frequency, period)}"
    if review_id in catalog.reviews:
        raise InputError(
            f"review {review_id} exists already ({catalog.reviews[review_id].source_file})"
        )
    try:
        rows = store.rows(extract.file)
    except ExtractError as exc:
        raise InputError(str(exc)) from None
    wanted_types = {str(t) for t in population.account_types}
    shared = store.has_system_column(extract.file)
    items = sorted(
        {
            (r.system if shared else "", r.account, r.entitlement)
            for r in rows
            if (not wanted_types or r.account_type in wanted_types)
            and (not shared or r.system in systems)
        },
        key=lambda i: (i[0], i[1].lower(), i[1], i[2]),
    )
    folder = label_of(control.frequency, period).replace("Q", "-Q").replace("H", "-H")
    if ".." in folder:
        folder = f"{period.start.isoformat()}_{period.end.isoformat()}"
    rel = f"reviews/{folder}/{review_id.replace('/', '_').replace(':', '_')}.yaml"
    target = catalog.resolve(rel)
    if target is None:
        raise InputError(f"{rel} would leave the catalog folder (a link?); nothing written")
    if target.exists() or target.is_symlink():
        raise InputError(f"{catalog.display_path(rel)} exists already; nothing written")
    text = stub_text(control, population, review_id, period, extract, items, list(reviewers))
    commit_files(catalog.root, [(rel, text.encode())])
    return ReviewStub(catalog.display_path(rel), review_id, len(items), period)
