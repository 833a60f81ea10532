"""Break-glass: every emergency use is justified, accepted and reviewed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from ...model import AccountType, Severity
from ..findings import Gap
from .base import rule
from .context import Context


@rule(
    "BRK-1",
    "Break-glass use not justified, accepted or reviewed",
    "break-glass",
    Severity.HIGH,
    hint="Record the justification, who accepted the use, and a post-event review within the deadline.",
)
def unreviewed_break_glass(ctx: Context) -> Iterator[Gap]:
    """Each use of an emergency account shows why, who accepted it, and a timely review.

    Firefighter access bypasses normal controls; the compensating evidence is the
    justification, an acceptance, and a review of what was done within the policy's
    deadline. Without them the exception path becomes the normal operating model.

    Fix: complete the log entry; review the session logs within
    ``break_glass_review_days``.
    """
    window = ctx.window
    limit = ctx.settings.break_glass_review_days
    for event in ctx.catalog.break_glass.values():
        if window is None or event.started.date() > window.end:
            continue
        control = event.control or ctx.control_for_system(event.system, AccountType.BREAK_GLASS)
        end = event.ended or event.started
        review_due = end.date() + timedelta(days=limit)
        required = ["justification", "accepted_by"]
        if ctx.as_of > review_due:  # the post-event review may still be under way until then
            required += ["reviewed_by", "reviewed_at"]
        missing = [name.replace("_", " ") for name in required if not getattr(event, name)]
        own = [
            r.replace("_", " ")
            for r in ("accepted_by", "reviewed_by")
            if getattr(event, r) == event.used_by
        ]
        if own:
            yield Gap(
                control,
                event.id,
                f"break-glass use {event.id} was {' and '.join(own)} its own user '{event.used_by}'",
                event.loc("accepted_by" if "accepted by" in own else "reviewed_by"),
            )
        if missing:
            yield Gap(
                control,
                event.id,
                f"break-glass use {event.id} has no {', '.join(missing)}",
                event.loc("id"),
            )
            continue
        if event.accepted_at is not None and event.accepted_at > end:
            yield Gap(
                control,
                event.id,
                f"break-glass use {event.id} was accepted on {event.accepted_at:%Y-%m-%d %H:%M}, "
                f"after the use ended ({end:%Y-%m-%d %H:%M}): acceptance came after the fact",
                event.loc("accepted_at"),
            )
        if event.reviewed_at is None:
            continue  # not reviewed yet, and not due yet
        days = (event.reviewed_at.date() - end.date()).days  # calendar days, like the policy
        if days > limit:
            yield Gap(
                control,
                event.id,
                f"break-glass use {event.id} was reviewed {days} day(s) after use; the policy allows "
                f"{limit}",
                event.loc("reviewed_at"),
            )


RULES = (unreviewed_break_glass,)
