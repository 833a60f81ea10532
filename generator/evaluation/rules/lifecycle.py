"""Lifecycle: people who have left no longer hold access; waivers are themselves governed."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Location
from ...model import AccountType, Severity
from ..findings import Gap
from .base import rule
from .context import Context


@rule(
    "LVR-1",
    "Leaver still holding access",
    "lifecycle",
    Severity.CRITICAL,
    hint="Disable the accounts now and find out why the leaver process missed them.",
)
def leaver_access(ctx: Context) -> Iterator[Gap]:
    """People whose employment ended have no accounts left in the current extracts.

    A leaver's active account is the classic access finding: nobody is accountable
    for its use, and it is invisible to reviews that only look at current staff.

    Fix: disable the accounts; check the joiner-mover-leaver control's evidence.
    """
    for leaver in ctx.access.leavers(ctx.as_of):
        control = ctx.control_for_system(leaver.system, AccountType.EMPLOYEE)
        rows = ctx.extracts.find(leaver.file, person=leaver.person, first=True)
        line = rows[0].line if rows else 0
        yield Gap(
            control,
            f"{leaver.person}:{leaver.system}",
            f"'{leaver.person}' left on {leaver.left} but still holds {', '.join(leaver.accounts)} "
            f"in the current extract of {leaver.system}",
            Location(ctx.catalog.display_path(leaver.file), line, 1 if line else 0),
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


RULES = (leaver_access, ungoverned_waiver)
