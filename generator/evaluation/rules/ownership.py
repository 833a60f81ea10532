"""Ownership: a named, employed person is accountable for every day of the period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ...model import AccountType, Severity
from ..findings import Gap
from .base import rule
from .context import Context
from .sod import exception_control


@rule(
    "OWN-1",
    "Control without a named owner",
    "ownership",
    Severity.HIGH,
    hint="Name one person (not a team or mailbox) as owner in the control's owners list.",
)
def no_named_owner(ctx: Context) -> Iterator[Gap]:
    """A control must have an owner, and the owner must be a named person.

    Auditors ask "who owns this control?" first. A team, a distribution list or a
    shared mailbox cannot be held accountable, and a control with nobody on record
    has no one to answer for it. A missing approver is not the same as a missing
    owner: this rule is about accountability for the control as a whole.

    Fix: add an entry to ``owners`` naming a person from the directory, with the
    date the ownership starts.
    """
    window = ctx.window
    for control in ctx.catalog.controls.values():
        if not control.owners:
            yield Gap(
                control.id, control.id, f"{control.id} has no owner on record", control.loc("id")
            )
            continue
        for entry in control.owners:
            person = ctx.catalog.people[entry.person]
            overlaps = window is None or (
                entry.since <= window.end and (entry.until is None or entry.until >= window.start)
            )
            if not person.is_person and overlaps:
                yield Gap(
                    control.id,
                    entry.person,
                    f"owner '{entry.person}' is a {person.kind}; a control owner must be a named person",
                    entry.loc("person"),
                )


@rule(
    "OWN-2",
    "Owner, reviewer or approver not an active person",
    "ownership",
    Severity.HIGH,
    hint="Hand the role over to an employed person, with the date of the handover.",
)
def inactive_person(ctx: Context) -> Iterator[Gap]:
    """Owners, reviewers and approvers must be employed people on the day they act.

    A control owned by someone who has left has no owner in fact, and a decision
    signed by someone who had left (or had not yet joined) is not evidence. The
    directory's ``employed_from`` / ``employed_until`` dates are compared with the
    day the person held the role or made the decision.

    Fix: record the handover in the owner history, or have the review decided again
    by a person employed at the time.
    """
    window = ctx.window
    if window is None:
        return
    people = ctx.catalog.people
    for control in ctx.catalog.controls.values():
        for entry in control.owners:
            start = max(entry.since, window.start)
            end = min(entry.until or window.end, window.end)
            person = people[entry.person]
            if start > end or not person.is_person:
                continue  # outside the window, or a team (OWN-1 reports it)
            if not (person.active_on(start) and person.active_on(end)):
                left = person.employed_until
                when = f"left on {left}" if left and left < end else "was not employed"
                yield Gap(
                    control.id,
                    entry.person,
                    f"owner '{entry.person}' {when}, but owns {control.id} until "
                    f"{entry.until or 'now'}",
                    entry.loc("person"),
                )
    for review in ctx.catalog.reviews.values():
        if not window.contains(review.period.end) and review.period.end > window.end:
            continue
        deciders: dict[str, list[int]] = {}
        for index, item in enumerate(review.items):
            if (
                item.decided_by
                and item.decided_at
                and not ctx.active(item.decided_by, item.decided_at.date())
            ):
                deciders.setdefault(item.decided_by, []).append(index)
        for person_id, indexes in sorted(deciders.items()):
            yield Gap(
                review.control,
                f"{review.id}:{person_id}",
                f"{len(indexes)} decision(s) in review {review.id} were made by '{person_id}', "
                "who was not an employed person at the time",
                review.items[indexes[0]].loc("decided_by"),
            )
        if review.sign_off and not ctx.active(review.sign_off.by, review.sign_off.at.date()):
            yield Gap(
                review.control,
                f"{review.id}:{review.sign_off.by}",
                f"review {review.id} was signed off by '{review.sign_off.by}', "
                "who was not an employed person at the time",
                review.sign_off.loc("by"),
            )
    for exc in ctx.catalog.exceptions.values():
        for role in ("approver", "business_owner", "control_owner"):
            person_id = getattr(exc, role)
            if person_id and not ctx.active(person_id, exc.granted):
                yield Gap(
                    exception_control(ctx, exc),
                    exc.id,
                    f"exception {exc.id}: {role.replace('_', ' ')} '{person_id}' was not an "
                    f"employed person on {exc.granted}",
                    exc.loc(role),
                )
    for event in ctx.catalog.break_glass.values():
        control = event.control or ctx.control_for_system(event.system, AccountType.BREAK_GLASS)
        for role, moment in (("accepted_by", event.started), ("reviewed_by", event.reviewed_at)):
            person_id = getattr(event, role)
            day = (moment or event.started).date()
            if person_id and not ctx.active(person_id, day):
                yield Gap(
                    control,
                    f"{event.id}:{person_id}",
                    f"break-glass use {event.id}: {role.replace('_', ' ')} '{person_id}' was not "
                    f"an employed person on {day}",
                    event.loc(role),
                )
    for review in ctx.catalog.reviews.values():
        day = min(review.completed or ctx.as_of, ctx.as_of)
        for index, person_id in enumerate(review.reviewers):
            if not ctx.active(person_id, day):
                yield Gap(
                    review.control,
                    f"{review.id}:{person_id}",
                    f"reviewer '{person_id}' of {review.id} was not an employed person on {day}",
                    review.loc("reviewers", index),
                )


def _uncovered(
    entries: list[tuple[date, date | None]], start: date, end: date
) -> list[tuple[date, date]]:
    """Date ranges inside start..end that no entry covers."""
    gaps: list[tuple[date, date]] = []
    cursor = start
    for since, until in sorted(entries):
        if since > cursor:
            gaps.append((cursor, min(since - timedelta(days=1), end)))
        cursor = max(cursor, (until or date.max - timedelta(days=1)) + timedelta(days=1))
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return [g for g in gaps if g[0] <= g[1]]


@rule(
    "OWN-3",
    "Owner runs the control himself",
    "ownership",
    Severity.MEDIUM,
    hint="Record an executor other than the owner (e.g. the IAM team that runs the campaign).",
)
def owner_is_executor(ctx: Context) -> Iterator[Gap]:
    """The owner is accountable; someone else should execute the control.

    When the owner also performs the control, nobody independent checks that it
    operated; when no executor is recorded, the owner is presumed to run it
    alone. Both weaken the evidence chain auditors rely on.

    Fix: name the executor (a person or a team) distinct from the owner.
    """
    for control in ctx.catalog.controls.values():
        owner = control.owner_on(ctx.as_of)
        if control.executor is None:
            if control.owners:
                yield Gap(
                    control.id,
                    control.id,
                    f"{control.id} has no executor recorded; the owner appears to run it alone",
                    control.loc("id"),
                )
        elif owner is not None and control.executor == owner.person:
            yield Gap(
                control.id,
                owner.person,
                f"'{owner.person}' is both owner and executor of {control.id}",
                control.loc("executor"),
            )


@rule(
    "OWN-4",
    "Gap in effective-dated ownership",
    "ownership",
    Severity.HIGH,
    hint="Extend the previous owner's 'until' or the next owner's 'since' to close the gap.",
)
def ownership_gap(ctx: Context) -> Iterator[Gap]:
    """Every day of the assessed period must have an owner on record.

    Auditors test the period, not today: "who owned this control on 14 May?" must
    have an answer. A gap between two owners (or before the first) means nobody
    was accountable for those days.

    Fix: correct the ``since`` / ``until`` dates so that they meet.
    """
    window = ctx.window
    if window is None:
        return
    for control in ctx.catalog.controls.values():
        if not control.owners:
            continue  # OWN-1 says so
        entries = [(o.since, o.until) for o in control.owners]
        for start, end in _uncovered(entries, window.start, window.end):
            yield Gap(
                control.id,
                f"{start}..{end}",
                f"{control.id} has no owner on record from {start} to {end}",
                control.loc("owners"),
            )


RULES = (no_named_owner, inactive_person, owner_is_executor, ownership_gap)
