"""Field-level comparison of two versions of each control, matched by ID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..evaluation.coverage import Coverage
from ..model import AccountType, ApprovalRule, Catalog, Control, Frequency, Population, Weakening
from ..model.retention import describe, in_months
from .types import ChangeKind, ControlDelta, DeltaStatus, FieldChange

SENSITIVE_ACCOUNT_TYPES = frozenset(
    {AccountType.PRIVILEGED, AccountType.SERVICE, AccountType.BREAK_GLASS, AccountType.THIRD_PARTY}
)
"""Account types whose populations must be reviewed explicitly (POP-2)."""

FREQUENCY_RANK = {
    Frequency.DAILY: 0,
    Frequency.WEEKLY: 1,
    Frequency.MONTHLY: 2,
    Frequency.QUARTERLY: 3,
    Frequency.SEMI_ANNUAL: 4,
    Frequency.ANNUAL: 5,
}
"""Periodic cadences from the most to the least frequent; event-driven and continuous
controls are not ranked, so a change to or from them is never called a weakening."""

_COMPARED = frozenset(
    {
        "owners",
        "executor",
        "frequency",
        "populations",
        "approval",
        "evidence_retention_years",
        "evidence_retention_months",
        "mappings",
        "sod_rulesets",
        "key",
        "nature",
        "automation",
    }
)
"""Control fields with their own comparison; any other field that differs is listed by name."""


def _owner_note(head: Catalog, person_id: str | None, day: date) -> str:
    """Whether the owner in force on ``day`` can be accountable: a named, employed person."""
    if person_id is None:
        return f"no owner in force on {day}"
    person = head.people.get(person_id)
    if person is None:
        return f"{person_id} is not in the directory"
    if not person.is_person:
        return f"{person_id} is a {person.kind}, not a named person"
    if not person.active_on(day):
        return f"{person_id} is not employed on {day}"
    return f"{person_id} is an active person"


def _history(control: Control) -> str:
    return "; ".join(
        f"{o.person} {o.since}..{o.until or ''}"
        for o in sorted(control.owners, key=lambda o: o.since)
    )


def _owners(old: Control, new: Control, head: Catalog, day: date) -> Iterator[FieldChange]:
    before, after = old.owner_on(day), new.owner_on(day)
    before_id = before.person if before else None
    after_id = after.person if after else None
    where = after.loc("person") if after else new.loc("owners")
    if before_id != after_id:
        yield FieldChange(
            ChangeKind.OWNER,
            "owners",
            before_id,
            after_id,
            where,
            None,
            _owner_note(head, after_id, day),
        )
    elif _history(old) != _history(new):
        note = f"owner on {day} unchanged"
        yield FieldChange(
            ChangeKind.OWNER_HISTORY, "owners", _history(old), _history(new), where, None, note
        )


def _frequency(old: Control, new: Control) -> Iterator[FieldChange]:
    if old.frequency == new.frequency:
        return
    before, after = FREQUENCY_RANK.get(old.frequency), FREQUENCY_RANK.get(new.frequency)
    weaker = before is not None and after is not None and after > before
    yield FieldChange(
        ChangeKind.FREQUENCY,
        "frequency",
        str(old.frequency),
        str(new.frequency),
        new.loc("frequency"),
        Weakening.FREQUENCY_WEAKENED if weaker else None,
        "operates less often" if weaker else "",
    )


def _describe_population(population: Population) -> str:
    types = ", ".join(str(t) for t in population.account_types)
    return f"{population.id} ({population.system or 'no system'}: {types})"


def _covered(control: Control) -> set[tuple[str | None, AccountType]]:
    """(system, account type) pairs the control's populations review."""
    return {(p.system, t) for p in control.populations for t in p.account_types}


def _lost_note(system: str | None, lost: list[AccountType]) -> str:
    kinds = ", ".join(t.label for t in lost)
    return f"no longer reviewed: {kinds} accounts of {system or 'no system'}"


def _lost(was: Population | None, new: Control) -> list[AccountType]:
    """Sensitive account types of ``was`` that no population of ``new`` covers any more."""
    if was is None:
        return []
    still = _covered(new)
    return sorted(
        {t for t in was.account_types if t in SENSITIVE_ACCOUNT_TYPES}
        - {t for system, t in still if system == was.system}
    )


def _populations(old: Control, new: Control) -> Iterator[FieldChange]:
    before = {p.id: p for p in old.populations}
    after = {p.id: p for p in new.populations}
    for pid in sorted(before.keys() | after.keys()):
        was, now = before.get(pid), after.get(pid)
        if was is not None and now is not None and was.model_dump() == now.model_dump():
            continue
        if now is None:
            kind, where = ChangeKind.POPULATION_REMOVED, new.loc("populations")
        elif was is None:
            kind, where = ChangeKind.POPULATION_ADDED, now.loc("id")
        else:
            kind, where = ChangeKind.POPULATION_CHANGED, now.loc("id")
        lost = _lost(was, new)
        system = was.system if was else None
        yield FieldChange(
            kind,
            "populations",
            _describe_population(was) if was else None,
            _describe_population(now) if now else None,
            where,
            Weakening.POPULATION_REMOVED if lost else None,
            _lost_note(system, lost) if lost else "",
        )


def _describe_approval(rule: ApprovalRule | None) -> str | None:
    if rule is None:
        return None
    return f"{rule.approver}: {', '.join(rule.people)}" if rule.people else str(rule.approver)


def _approval(old: Control, new: Control) -> Iterator[FieldChange]:
    was = old.approval.model_dump() if old.approval else None
    now = new.approval.model_dump() if new.approval else None
    if was == now:
        return
    before, after = _describe_approval(old.approval), _describe_approval(new.approval)
    note = "description changed" if before == after else ""
    yield FieldChange(
        ChangeKind.APPROVAL, "approval", before, after, new.loc("approval"), None, note
    )


def _retention(control: Control, catalog: Catalog) -> int | None:
    """Months of retention in force for the control (its own, else the settings')."""
    own = in_months(control)
    return own if own is not None else in_months(catalog.settings)


def _retention_change(
    old: Control, base: Catalog, new: Control, head: Catalog
) -> Iterator[FieldChange]:
    before, after = _retention(old, base), _retention(new, head)
    if before == after:
        return
    shorter = before is not None and (after is None or after < before)
    stated = in_months(new) is not None
    field = (
        "evidence_retention_months"
        if (new if stated else head.settings).evidence_retention_months is not None
        else "evidence_retention_years"
    )
    where = new.loc(field) if stated else head.settings.loc(field)
    note = "" if stated else "from the catalog settings"
    yield FieldChange(
        ChangeKind.RETENTION,
        "evidence_retention_years",
        describe(before),
        describe(after),
        where,
        Weakening.RETENTION_SHORTENED if shorter else None,
        note,
    )


def _uncovered(refs: list[str], coverage: Coverage) -> tuple[str, ...]:
    """Framework IDs among ``refs`` that no control maps on HEAD."""
    found = []
    for ref in refs:
        element = coverage.get(ref.strip())
        if element is not None and not element.covered:
            found.append(element.id)
    return tuple(dict.fromkeys(found))


def _mappings(old: Control, new: Control, coverage: Coverage) -> Iterator[FieldChange]:
    for key in ("csf", "owasp_nhi"):
        before, after = getattr(old.mappings, key), getattr(new.mappings, key)
        field = f"mappings.{key}"
        for ref in sorted(set(after) - set(before)):
            where = new.mappings.loc(key, after.index(ref))
            yield FieldChange(ChangeKind.MAPPING_ADDED, field, None, ref, where)
        for ref in sorted(set(before) - set(after)):
            note = "no control maps it any more" if _uncovered([ref], coverage) else ""
            where = new.mappings.loc(key)
            yield FieldChange(
                ChangeKind.MAPPING_REMOVED, field, ref, None, where, Weakening.MAPPING_REMOVED, note
            )


def _rulesets(old: Control, new: Control) -> Iterator[FieldChange]:
    before, after = set(old.sod_rulesets), set(new.sod_rulesets)
    for ruleset in sorted(after - before):
        where = new.loc("sod_rulesets", new.sod_rulesets.index(ruleset))
        yield FieldChange(ChangeKind.SOD_RULESET_ADDED, "sod_rulesets", None, ruleset, where)
    for ruleset in sorted(before - after):
        yield FieldChange(
            ChangeKind.SOD_RULESET_REMOVED,
            "sod_rulesets",
            ruleset,
            None,
            new.loc("sod_rulesets"),
            Weakening.SOD_RULESET_REMOVED,
        )


def _shown(value: object) -> str | None:
    """A field value as text (``key`` for a boolean key flag, ``None`` when unset)."""
    if isinstance(value, bool):
        return "key" if value else "not key"
    return None if value is None else str(value)


def _simple(old: Control, new: Control) -> Iterator[FieldChange]:
    """Executor, key, nature and automation: a value that was replaced."""
    kinds = {
        "executor": ChangeKind.EXECUTOR,
        "key": ChangeKind.KEY,
        "nature": ChangeKind.NATURE,
        "automation": ChangeKind.AUTOMATION,
    }
    for field, kind in kinds.items():
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            yield FieldChange(kind, field, _shown(before), _shown(after), new.loc(field))


def _others(old: Control, new: Control) -> Iterator[FieldChange]:
    was, now = old.model_dump(exclude=set(_COMPARED)), new.model_dump(exclude=set(_COMPARED))
    for field in type(new).model_fields:
        if field in was and was[field] != now[field]:
            yield FieldChange(ChangeKind.OTHER, field, None, None, new.loc(field))


def control_changes(
    old: Control, base: Catalog, new: Control, head: Catalog, day: date, coverage: Coverage
) -> tuple[FieldChange, ...]:
    """Every field-level difference between two versions of one control."""
    return (
        *_owners(old, new, head, day),
        *_simple(old, new),
        *_frequency(old, new),
        *_populations(old, new),
        *_approval(old, new),
        *_retention_change(old, base, new, head),
        *_mappings(old, new, coverage),
        *_rulesets(old, new),
        *_others(old, new),
    )


def _owner_id(control: Control, day: date) -> str | None:
    entry = control.owner_on(day)
    return entry.person if entry else None


def control_deltas(
    base: Catalog, head: Catalog, day: date, coverage: Coverage
) -> list[ControlDelta]:
    """Controls added, deleted or changed from ``base`` to ``head``, in ID order.

    ``coverage`` is HEAD's, to tell which framework IDs lost their last control.
    """
    deltas = []
    for cid in sorted(base.controls.keys() | head.controls.keys()):
        old, new = base.controls.get(cid), head.controls.get(cid)
        if new is None:
            assert old is not None
            refs = [*old.mappings.csf, *old.mappings.owasp_nhi]
            deltas.append(
                ControlDelta(
                    cid,
                    old.title,
                    DeltaStatus.DELETED,
                    old.loc("id"),
                    _owner_id(old, day),
                    old.frequency,
                    uncovered=_uncovered(refs, coverage),
                )
            )
        elif old is None:
            deltas.append(
                ControlDelta(
                    cid,
                    new.title,
                    DeltaStatus.ADDED,
                    new.loc("id"),
                    _owner_id(new, day),
                    new.frequency,
                )
            )
        elif changes := control_changes(old, base, new, head, day, coverage):
            deltas.append(
                ControlDelta(
                    cid,
                    new.title,
                    DeltaStatus.CHANGED,
                    new.loc("id"),
                    _owner_id(new, day),
                    new.frequency,
                    changes,
                )
            )
    return deltas


__all__ = ["FREQUENCY_RANK", "SENSITIVE_ACCOUNT_TYPES", "control_changes", "control_deltas"]
