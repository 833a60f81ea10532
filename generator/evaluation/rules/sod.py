"""Segregation of duties: nobody reviews themselves or their own system, nor holds conflicting duties."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from itertools import pairwise
from statistics import median

from ...diagnostics import Location
from ...model import (
    AccountType,
    ApproverRole,
    Decision,
    Review,
    ReviewItem,
    Severity,
    SodException,
)
from ..findings import Gap, NotAssessed
from ..validity import ExceptionStatus, exception_status, exceptions_for
from .base import rule
from .context import Context


@rule(
    "SOD-1",
    "Self-review",
    "sod",
    Severity.CRITICAL,
    hint="Have the decision made again by someone other than the account holder.",
)
def self_review(ctx: Context) -> Iterator[Gap]:
    """Nobody decides on their own access.

    A reviewer approving their own account attests to nothing: it is the textbook
    failure of separating administration from attestation. The account's holder
    comes from the ``person`` column of the review's extract.

    Fix: reassign the item to the holder's manager or the application owner.
    """
    for review in ctx.catalog.reviews.values():
        holders = ctx.accounts_people(review)
        for item, key in zip(review.items, ctx.item_keys(review), strict=True):
            if item.decided_by and holders.get(key) == item.decided_by:
                yield Gap(
                    review.control,
                    f"{review.id}:{item.account}",
                    f"'{item.decided_by}' decided on their own account '{item.account}' in review {review.id}",
                    item.loc("decided_by"),
                )


@rule(
    "SOD-2",
    "Administrator reviews own system",
    "sod",
    Severity.HIGH,
    hint="Assign the review to someone who does not administer the system.",
)
def admin_reviewer(ctx: Context) -> Iterator[Gap]:
    """The administrator of a system is not its reviewer.

    Whoever can grant access in a system can also hide it; their attestation of
    that system's access is not independent.

    Fix: have the application owner or another person without administrative
    access to the system decide.
    """
    for review in ctx.catalog.reviews.values():
        first: dict[tuple[str, str], int] = {}
        counts: dict[tuple[str, str], int] = {}
        review_system = ctx.system_of(review)
        admins: dict[tuple[str, date | None], set[str]] = {}  # a few systems and days
        for index, item in enumerate(review.items):
            system_id = item.system or review_system
            if item.decided_by is None or system_id not in ctx.catalog.systems:
                continue
            day = (item.decided_at.date() if item.decided_at else None) or review.completed
            if (system_id, day) not in admins:
                admins[system_id, day] = _administrators(ctx, system_id, day)
            if item.decided_by in admins[system_id, day]:
                key = (item.decided_by, system_id)
                first.setdefault(key, index)
                counts[key] = counts.get(key, 0) + 1
        for (person, system_id), index in sorted(first.items()):
            name = ctx.catalog.systems[system_id].name
            yield Gap(
                review.control,
                f"{review.id}:{person}",
                f"'{person}' administers {name} and decided {counts[person, system_id]} "
                f"item(s) of its review {review.id}",
                review.items[index].loc("decided_by"),
            )


def _administrators(ctx: Context, system_id: str, day: date | None) -> set[str]:
    """Who administered the system on ``day`` (with no day known: its undated list)."""
    system = ctx.catalog.systems[system_id]
    return system.administrators_on(day) if day else set(system.administrators)


def _conflict_location(ctx: Context, ruleset: str, duties: tuple[str, str]) -> Location:
    rs = ctx.catalog.rulesets[ruleset]
    for conflict in rs.conflicts:
        if frozenset(conflict.duties) == frozenset(duties):
            return conflict.loc()
    return rs.loc("id")


def _line_of(ctx: Context, rel: str, account: str, entitlement: str) -> Location:
    for row in ctx.extracts.find(rel, account=account, entitlement=entitlement, first=True):
        return Location(ctx.catalog.display_path(rel), row.line, 1)
    return Location(ctx.catalog.display_path(rel))


def unjudged_rulesets(ctx: Context) -> Iterator[NotAssessed]:
    """Rule sets whose systems' state does not show every kind of account there: an empty
    result there is not a clean one. The state is the newest accounts extract of each
    account type (a break-glass slice shows break-glass accounts only)."""
    for ruleset in sorted(ctx.catalog.rulesets.values(), key=lambda r: r.id):
        systems = sorted({g.system for duty in ruleset.duties for g in duty.grants})
        for system_id in systems:
            system = ctx.catalog.systems.get(system_id)
            if system is None:
                continue
            needed = (set(system.account_types) or set(AccountType)) - {AccountType.SERVICE}
            shown = {
                t
                for part in ctx.states.get(system_id, ())
                if ctx.extracts.path(part.extract.file) is not None
                for t in part.types
            }
            missing = sorted(needed - shown, key=list(AccountType).index)
            if not missing:
                continue
            what = (
                f"no accounts extract of {system_id} taken on or before {ctx.as_of}"
                if not shown
                else f"no accounts extract of {system_id} taken on or before {ctx.as_of} "
                f"shows its {', '.join(str(t) for t in missing)} accounts"
            )
            yield NotAssessed(
                ruleset_control(ctx, ruleset.id),
                f"SoD rule set {ruleset.id} on {system_id} (SOD-3, EXC-3) not assessed"
                + (" for those accounts" if shown else "")
                + f": {what}.",
            )


def exception_control(ctx: Context, exc: SodException) -> str | None:
    """The SoD control an exception's findings are filed under: the one it names, else the
    control that enforces its rule set (never the compensating control, whose owner
    approved the exception)."""
    return exc.control or ruleset_control(ctx, exc.ruleset)


def ruleset_control(ctx: Context, ruleset: str) -> str | None:
    """The control that enforces a rule set (first by ID)."""
    owners = [c.id for c in ctx.catalog.controls.values() if ruleset in c.sod_rulesets]
    return owners[0] if owners else None


@rule(
    "SOD-3",
    "Conflicting duties without an exception",
    "sod",
    Severity.CRITICAL,
    hint="Remove one of the conflicting entitlements, or record an approved, time-boxed exception.",
)
def unexcepted_conflict(ctx: Context) -> Iterator[Gap]:
    """A person holding both duties of a conflict needs a documented exception.

    Across all systems, the current extracts are matched with the rule sets'
    entitlement-to-duty mapping. A person who can, say, create a vendor and approve
    its payment can commit and conceal fraud. Without an exception (with business
    and control owner, an independent approver, a justification and an expiry) the
    conflict is unmanaged. When an exception exists for the conflict, EXC-1 ... EXC-3
    judge that exception instead, so each conflict is reported once.

    Fix: remove one entitlement, or record an exception in the exceptions register.
    """
    yield from unjudged_rulesets(ctx)
    for held in ctx.access.conflicts:
        recorded = exceptions_for(ctx.catalog, held.person, held.ruleset, held.duties)
        if {exception_status(e, ctx.as_of) for e in recorded} - {ExceptionStatus.NOT_YET_IN_FORCE}:
            continue  # EXC-1 ... EXC-3 judge the exception (EXC-3 once it has expired)
        first, second = held.first, held.second
        yield Gap(
            ruleset_control(ctx, held.ruleset),
            held.person,
            f"'{held.person}' holds conflicting duties {held.duties[0]} and {held.duties[1]} "
            f"({held.ruleset}: {first.entitlement} via {first.account}, {second.entitlement} via "
            f"{second.account}) with no exception",
            _line_of(ctx, second.file, second.account, second.entitlement),
        )


Deciders = Callable[[ReviewItem, str], frozenset[str]]
"""Who may decide on an item, given the item and its :meth:`Context.item_key`."""


def authorised_deciders(ctx: Context, review: Review) -> Deciders | None:
    """Who the approval rule allows to decide on each item's account of ``review`` (None:
    the control has no approval rule). Worked out once per review: a review holds
    thousands of items, and only the manager rule (the holder's manager) and the
    system-owner rule (the item's system) look at the item."""
    control = ctx.catalog.controls[review.control]
    approval = control.approval
    if approval is None:
        return None
    owner = control.roles.application_owner
    application_owner = frozenset({owner} if owner else ())
    match approval.approver:
        case ApproverRole.MANAGER:
            holders, people = ctx.accounts_people(review), ctx.catalog.people

            def manager(item: ReviewItem, key: str) -> frozenset[str]:
                holder = people.get(holders.get(key, ""))
                if holder is not None and holder.manager:
                    return frozenset((holder.manager,))
                return application_owner

            return manager
        case ApproverRole.SYSTEM_OWNER:

            def system_owner(item: ReviewItem, key: str) -> frozenset[str]:
                system = ctx.catalog.systems.get(ctx.item_system(review, item) or "")
                return frozenset({system.owner} if system and system.owner else ())

            return system_owner
        case ApproverRole.APPLICATION_OWNER:
            fixed = application_owner
        case ApproverRole.CONTROL_OWNER:
            fixed = frozenset(o.person for o in control.owners)
        case ApproverRole.NAMED:
            fixed = frozenset(approval.people)
        case _:  # pragma: no cover - every role is handled above
            return None
    return lambda item, key: fixed


@rule(
    "REV-1",
    "Reviewer without authority over the population",
    "review",
    Severity.HIGH,
    hint="Have the item decided by the person the approval rule names (manager, app or system owner).",
)
def unauthorised_reviewer(ctx: Context) -> Iterator[Gap]:
    """Decisions are made by the person the approval rule gives authority.

    A review signed by someone without authority over the accounts (not the
    holder's manager, not the application or system owner the rule names) does
    not show that access is appropriate, however complete it looks.

    Fix: route the items to the right approver, or correct the approval rule.
    """
    for review in ctx.catalog.reviews.values():
        deciders = authorised_deciders(ctx, review)
        if deciders is None:
            continue  # no approval rule: POP-1 reports it
        wrong: dict[str, list[int]] = {}
        for index, (item, key) in enumerate(zip(review.items, ctx.item_keys(review), strict=True)):
            if item.decided_by is not None and item.decided_by not in deciders(item, key):
                wrong.setdefault(item.decided_by, []).append(index)
        control = ctx.catalog.controls[review.control]
        rule_name = control.approval.approver if control.approval else "?"
        for person, indexes in sorted(wrong.items()):
            yield Gap(
                review.control,
                f"{review.id}:{person}",
                f"'{person}' decided {len(indexes)} item(s) of {review.id} without authority "
                f"under the approval rule ({rule_name})",
                review.items[indexes[0]].loc("decided_by"),
            )


RUBBER_STAMP_MIN_ITEMS = 5
RUBBER_STAMP_MAX_MEDIAN_SECONDS = 10.0


@rule(
    "REV-2",
    "Rubber-stamp review",
    "review",
    Severity.MEDIUM,
    hint="Review each account on its merits; re-perform the review with documented consideration.",
)
def rubber_stamp(ctx: Context) -> Iterator[Gap]:
    """A review where everything was approved within seconds was probably not performed.

    Five or more items, every one kept, with a median of under ten seconds between
    consecutive decisions: auditors treat this as a "bulk approve" click, not a
    review, and the control as not operating.

    Fix: re-perform the review; decide item by item and record revokes.
    """
    for review in ctx.catalog.reviews.values():
        items = review.items
        if len(items) < RUBBER_STAMP_MIN_ITEMS or any(i.decision != Decision.KEEP for i in items):
            continue
        times = sorted(i.decided_at for i in items if i.decided_at is not None)
        if len(times) < len(items):
            continue
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        if median(gaps) < RUBBER_STAMP_MAX_MEDIAN_SECONDS:
            span = (times[-1] - times[0]).total_seconds()
            yield Gap(
                review.control,
                review.id,
                f"all {len(items)} items of {review.id} were kept within {span:.0f} seconds "
                f"(median {median(gaps):.0f} s between decisions)",
                review.items_loc(),
            )


RULES = (self_review, admin_reviewer, unexcepted_conflict, unauthorised_reviewer, rubber_stamp)
