"""Break-glass: every emergency use is justified, accepted and reviewed afterwards."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Gap
from ..model import AccountType, Severity
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
        missing = [
            name.replace("_", " ")
            for name in ("justification", "accepted_by", "reviewed_by", "reviewed_at")
            if not getattr(event, name)
        ]
        if missing:
            yield Gap(
                control,
                event.id,
                f"break-glass use {event.id} has no {', '.join(missing)}",
                event.loc("id"),
            )
            continue
        end = event.ended or event.started
        assert event.reviewed_at is not None
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
