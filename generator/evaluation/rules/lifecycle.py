"""Lifecycle: people who have left no longer hold access; waivers are themselves governed."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Location
from ...evidence.extracts import utc_day
from ...model import AccountType, Severity, System
from ..findings import Gap, NotAssessed
from .base import rule
from .context import Context


@rule(
    "LVR-1",
    "Leaver still holding access",
    "lifecycle",
    Severity.CRITICAL,
    hint="Disable the accounts now and find out why the leaver process missed them.",
)
def leaver_access(ctx: Context) -> Iterator[Gap | NotAssessed]:
    """People whose employment ended have no accounts left in the systems' state.

    A leaver's active account is the classic access finding: nobody is accountable
    for its use, and it is invisible to reviews that only look at current staff. Only
    an accounts extract taken after the leaving date can show it; where there is none
    (for some account types of a system), that is said under "not assessed".

    Fix: disable the accounts; check the joiner-mover-leaver control's evidence.
    """
    yield from _leavers_not_assessed(ctx)
    for leaver in ctx.access.leavers(ctx.as_of):
        control = ctx.control_for_system(leaver.system, AccountType.EMPLOYEE)
        rows = ctx.extracts.find(leaver.file, person=leaver.person, first=True)
        line = rows[0].line if rows else 0
        yield Gap(
            control,
            f"{leaver.system}:{leaver.person}",
            f"'{leaver.person}' left on {leaver.left} but still holds {', '.join(leaver.accounts)} "
            f"in the state of {leaver.system} (accounts extract of {taken(ctx, leaver.file)})",
            Location(ctx.catalog.display_path(leaver.file), line, 1 if line else 0),
        )


def taken(ctx: Context, rel: str) -> str:
    for part in (p for parts in ctx.states.values() for p in parts):
        if part.extract.file == rel and part.extract.extracted_at is not None:
            return str(utc_day(part.extract.extracted_at))
    return rel


def personal_account_types(system: System) -> set[AccountType]:
    """The account types of a system that people hold (all it declares, or all there are,
    but service accounts: they carry no person, so they show no leaver and no conflict)."""
    return (set(system.account_types) or set(AccountType)) - {AccountType.SERVICE}


def _leavers_not_assessed(ctx: Context) -> Iterator[NotAssessed]:
    """Systems with no accounts extract taken after a leaver's last day (per account type)."""
    leavers = sorted(
        (p.employed_until, p.id)
        for p in ctx.catalog.people.values()
        if p.employed_until is not None and p.employed_until < ctx.as_of
    )
    if not leavers:
        return
    for system in sorted(ctx.catalog.systems.values(), key=lambda s: s.id):
        needed = personal_account_types(system)
        parts = [
            p
            for p in ctx.states.get(system.id, ())
            if ctx.extracts.path(p.extract.file) is not None and p.extract.extracted_at
        ]
        unseen: dict[tuple[AccountType, ...], list[str]] = {}
        for left, person in leavers:
            shown = {t for p in parts if utc_day(p.extract.extracted_at) > left for t in p.types}  # type: ignore[arg-type]
            missing = tuple(sorted(needed - shown, key=list(AccountType).index))
            if missing:
                unseen.setdefault(missing, []).append(f"{person} (left {left})")
        for missing, people in unseen.items():
            kinds = ", ".join(str(t) for t in missing)
            shown_people = ", ".join(people[:5]) + (
                f" and {len(people) - 5} more" if len(people) > 5 else ""
            )
            yield NotAssessed(
                ctx.control_for_system(system.id, AccountType.EMPLOYEE),
                f"LVR-1 not assessed on {system.id} for {kinds} accounts of {shown_people}: no "
                f"accounts extract of {system.id} covering them was taken after the leaving date.",
            )


@rule(
    "ORP-1",
    "Account of a person the directory does not know",
    "lifecycle",
    Severity.HIGH,
    hint="Find who uses the account: correct the person value, add them to the directory, or disable it.",
)
def orphan_account(ctx: Context) -> Iterator[Gap]:
    """Every account in a system's state belongs to someone the directory knows.

    An account whose ``person`` matches nobody (a typo, a former contractor never
    entered, an ID followed by an invisible character) is an orphan: no manager
    reviews it, no leaver process removes it. It is the first thing an auditor asks
    about, and rules that match people (SoD, leavers) cannot see it.

    Fix: correct the person value at the source, add the person to the directory
    (contractors and external staff too), or disable the account.
    """
    for orphan in ctx.access.orphans:
        rows = ctx.extracts.find(orphan.file, person=orphan.person, first=True)
        line = rows[0].line if rows else 0
        yield Gap(
            ctx.control_for_system(orphan.system, AccountType.EMPLOYEE),
            f"{orphan.system}:{orphan.person}",
            f"'{orphan.person}' holds {', '.join(orphan.accounts)} in the state of "
            f"{orphan.system} but is not in the directory",
            Location(ctx.catalog.display_path(orphan.file), line, 1 if line else 0),
        )


@rule(
    "WVR-1",
    "Waiver without approver, reason or expiry",
    "lifecycle",
    Severity.MEDIUM,
    hint="Give the waiver an employed approver, a reason and an expiry date.",
)
def ungoverned_waiver(ctx: Context) -> Iterator[Gap]:
    """A waiver hides a finding only when someone accountable accepted it, for a while.

    Without an approver, a reason and an expiry, a waiver is a way to make findings
    disappear. Such a waiver hides nothing, and is reported itself.

    Fix: complete the waiver, or delete it.
    """
    for waiver in ctx.catalog.waivers.values():
        missing = [n for n in ("approver", "reason", "expires") if not getattr(waiver, n)]
        if missing:
            yield Gap(
                waiver.control,
                waiver.id,
                f"waiver {waiver.id} has no {', '.join(missing)}",
                waiver.loc("id"),
            )
        elif not ctx.active(waiver.approver, ctx.as_of):
            yield Gap(
                waiver.control,
                waiver.id,
                f"waiver {waiver.id} is approved by '{waiver.approver}', who is not an employed person",
                waiver.loc("approver"),
            )


RULES = (leaver_access, orphan_account, ungoverned_waiver)
