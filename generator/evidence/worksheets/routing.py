"""Who decides each item of a review's population: the control's approval rule, applied.

The population is the review's extract (``evidence.file``): every row whose account type
is one of the population's, one item per system, account and entitlement. Each item goes
to the person the approval rule names, as the rules that judge the review read it
(REV-1's :func:`authorised_deciders`): the holder's manager (with no manager on record,
the application owner), the application owner, the system owner, the control owner(s),
or the named people.

Nobody routes to themselves (SOD-1): when the rule lands on the account holder, the
item goes to the first of the holder's manager, the application owner, the system owner
and the control owner who is someone else, and the row says so. A decider must be a
named person employed on the review day; an item with nobody left is *unrouted*, never
dropped.

The review day is when the campaign started (``started``), else the day the population
was extracted, else the end of the period: the same review gives the same routing on any
day it is run. The directory keeps one manager per person (no history): the manager "at
the review day" is the one on record now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...errors import InputError
from ...model import ApproverRole, Catalog, Control, Person, Population, Review
from ...model.controls import population_systems
from ..extracts import ExtractStore
from ..extractscan import norm
from .layout import checksum


@dataclass(frozen=True)
class Item:
    """One row of the population as a decider sees it."""

    system: str
    account: str
    entitlement: str
    account_type: str
    person: str
    """The directory ID of the holder (or the extract's value when it matches nobody)."""
    name: str
    department: str
    status: str
    """The holder on the review day: employed, left on …, not in the directory, …"""
    source: str
    """``extract file:line``, the file as the catalog names it (the same wherever it lies)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """How collect matches a returned row to the item (values as :func:`norm` makes them)."""
        return (norm(self.system), norm(self.account), norm(self.entitlement))

    def check(self, review_id: str) -> str:
        return checksum(review_id, self.system, self.account, self.entitlement)


@dataclass(frozen=True)
class Routed:
    item: Item
    decider: str | None
    why: str
    """How the approval rule gave the item to its decider (or why nobody)."""


@dataclass(frozen=True)
class Routing:
    """A review's population, routed."""

    review: Review
    control: Control
    population: Population
    day: date
    extract_file: str
    extract_sha256: str
    shared: bool
    """The review covers several systems: items name their system."""
    rows: tuple[Routed, ...]

    @property
    def deciders(self) -> list[str]:
        return sorted({r.decider for r in self.rows if r.decider})

    def of(self, decider: str) -> list[Routed]:
        return [r for r in self.rows if r.decider == decider]

    @property
    def unrouted(self) -> list[Routed]:
        return [r for r in self.rows if r.decider is None]


def review_day(review: Review) -> date:
    """The day routing is judged on (see the module docstring)."""
    if review.started:
        return review.started
    if review.evidence is not None and review.evidence.extracted_at is not None:
        return review.evidence.extracted_at.date()
    return review.period.end


def find_review(catalog: Catalog, review_id: str) -> Review:
    from ...diagnostics import did_you_mean

    review = catalog.reviews.get(review_id)
    if review is None:
        raise InputError(
            f"no review {review_id!r} in the catalog{did_you_mean(review_id, catalog.reviews)}"
        )
    return review


def route(catalog: Catalog, review_id: str, store: ExtractStore | None = None) -> Routing:
    """Every item of the review's population with its decider; raises :class:`InputError`
    when the review has no population, approval rule or readable extract to route."""
    review = find_review(catalog, review_id)
    control = catalog.controls[review.control]
    population = control.population(review.population)
    where = review.loc()
    if population is None:
        raise InputError(f"{where}: control {control.id} has no population {review.population!r}")
    if control.approval is None:
        raise InputError(
            f"{control.loc()}: control {control.id} has no approval rule: nobody to route to"
        )
    evidence = review.evidence
    if evidence is None or evidence.file is None:
        raise InputError(
            f"{where}: review {review.id} records no population extract (evidence: file:)"
        )
    store = store or ExtractStore(catalog)
    check = store.check(evidence.file)
    if not check.exists:
        raise InputError(
            f"{review.loc('evidence', 'file')}: the extract {evidence.file} is missing"
        )
    if evidence.sha256 is not None and check.sha256 != evidence.sha256:
        raise InputError(
            f"{review.loc('evidence', 'sha256')}: the extract {evidence.file} has changed since "
            "it was recorded (its sha256 differs): worksheets are issued for the recorded one"
        )
    systems = list(evidence.systems) or (
        [evidence.system] if evidence.system else population_systems(population)
    )
    shared = store.has_system_column(evidence.file)
    kinds = {str(t) for t in population.account_types}
    wanted = {norm(s) for s in systems}
    day = review_day(review)
    seen: set[tuple[str, str, str]] = set()
    rows: list[Routed] = []
    for row in store.rows(evidence.file):
        if row.account_type not in kinds or (shared and norm(row.system) not in wanted):
            continue
        system = row.system if shared else (systems[0] if systems else "")
        holder = _holder(catalog, row.person)
        item = Item(
            system=system,
            account=row.account,
            entitlement=row.entitlement,
            account_type=row.account_type,
            person=holder.id if holder else row.person,
            name=holder.name if holder else "",
            department=(holder.department or "") if holder else "",
            status=_status(holder, row.person, day),
            source=f"{evidence.file}:{row.line}",
        )
        if item.key in seen:
            continue
        seen.add(item.key)
        decider, why = _decide(catalog, control, item, holder, day)
        rows.append(Routed(item, decider, why))
    rows.sort(key=lambda r: (r.decider or "", r.item.system, r.item.account, r.item.entitlement))
    return Routing(
        review, control, population, day, evidence.file, check.sha256 or "", shared, tuple(rows)
    )


def _holder(catalog: Catalog, value: str) -> Person | None:
    if not value.strip():
        return None
    found = catalog.people.get(value.strip())
    if found is not None:
        return found
    key = norm(value)
    return next((p for p in catalog.people.values() if norm(p.id) == key), None)


def _status(holder: Person | None, value: str, day: date) -> str:
    if holder is None:
        return "no person in the extract" if not value.strip() else "not in the directory"
    if not holder.is_person:
        return f"a {holder.kind}, not a person"
    if holder.employed_until is not None and holder.employed_until < day:
        return f"left on {holder.employed_until.isoformat()}"
    if holder.employed_from is not None and day < holder.employed_from:
        return f"starts on {holder.employed_from.isoformat()}"
    return str(holder.workforce)


def _candidates(
    catalog: Catalog, control: Control, item: Item, holder: Person | None, day: date
) -> list[tuple[str, str]]:
    """(person, why) the approval rule names for the item, in order of preference."""
    roles = control.roles
    match control.approval.approver if control.approval else None:
        case ApproverRole.MANAGER:
            if holder is not None and holder.manager:
                return [(holder.manager, f"manager of {holder.id}")]
            app = [(roles.application_owner, "application owner (no manager on record)")]
            return app if roles.application_owner else []
        case ApproverRole.APPLICATION_OWNER:
            return (
                [(roles.application_owner, "application owner")] if roles.application_owner else []
            )
        case ApproverRole.SYSTEM_OWNER:
            system = catalog.systems.get(item.system)
            return [(system.owner, "system owner")] if system and system.owner else []
        case ApproverRole.CONTROL_OWNER:
            current = control.owner_on(day)
            owners = [current.person] if current else []
            owners += [o.person for o in control.owners if o.person not in owners]
            return [(o, "control owner") for o in owners]
        case ApproverRole.NAMED:
            assert control.approval is not None
            return [(p, "named reviewer") for p in control.approval.people]
    return []


def _fallbacks(
    catalog: Catalog, control: Control, item: Item, holder: Person | None, day: date
) -> list[tuple[str, str]]:
    """Whom an item goes to when the rule lands on its holder (SOD-1's remedy)."""
    found = []
    if holder is not None and holder.manager:
        found.append((holder.manager, "the holder's manager"))
    if control.roles.application_owner:
        found.append((control.roles.application_owner, "the application owner"))
    system = catalog.systems.get(item.system)
    if system is not None and system.owner:
        found.append((system.owner, "the system owner"))
    current = control.owner_on(day)
    if current is not None:
        found.append((current.person, "the control owner"))
    return found


def _decide(
    catalog: Catalog, control: Control, item: Item, holder: Person | None, day: date
) -> tuple[str | None, str]:
    def usable(person_id: str) -> bool:
        person = catalog.people.get(person_id)
        return person is not None and person.active_on(day)

    candidates = _candidates(catalog, control, item, holder, day)
    if not candidates:
        rule = control.approval.approver if control.approval else "?"
        return None, f"the approval rule ({rule}) names nobody for this account"
    self_hit = None
    for person, why in candidates:
        if holder is not None and person == holder.id:
            self_hit = (person, why)
            continue
        if usable(person):
            return person, why
    if self_hit is None:
        names = ", ".join(f"{p} ({w})" for p, w in candidates)
        return None, f"not active on {day.isoformat()}: {names}"
    person, why = self_hit
    for other, role in _fallbacks(catalog, control, item, holder, day):
        if other != person and usable(other):
            return other, f"{why} {person} holds this account: routed to {role} instead"
    return None, f"{why} {person} holds this account and nobody else can decide it"
