"""Cadence: every period a control should have operated in has a completed, timely review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from ...model import Severity
from ..findings import Gap
from .base import rule
from .context import Context


@rule(
    "CAD-1",
    "Review overdue",
    "cadence",
    Severity.HIGH,
    hint="Complete the review and record it, or record why the control did not operate.",
)
def overdue_review(ctx: Context) -> Iterator[Gap]:
    """Each population of a periodic control has a completed review for every due period.

    For monthly, quarterly, semi-annual and annual controls, each period of the
    assessed period whose due date (period end plus the review due days) has
    passed at the as-of date must have a completed review. A missing review is a
    control that did not operate, never "fine by default".

    Fix: perform and record the review; if the control truly did not operate,
    report it as a deficiency.
    """
    for control in ctx.catalog.controls.values():
        if not control.populations:
            continue
        reviews = ctx.catalog.reviews_of(control.id)
        for period in ctx.expected_periods(control):
            due = period.end + timedelta(days=ctx.due_days(control))
            if due >= ctx.as_of:
                continue  # on its due date a review is not late yet (CAD-2 agrees)
            for index, population in enumerate(control.populations):
                matching = [
                    r
                    for r in reviews
                    if r.population == population.id
                    and r.period.start <= period.start
                    and r.period.end >= period.end
                ]
                done = [r for r in matching if r.completed is not None and r.completed <= ctx.as_of]
                if done:
                    continue
                if matching:
                    review = matching[0]
                    yield Gap(
                        control.id,
                        f"{population.id}:{period.end}",
                        f"review {review.id} of '{population.id}' for {period} was due {due} "
                        f"and is not completed at {ctx.as_of}",
                        review.loc("id"),
                    )
                else:
                    yield Gap(
                        control.id,
                        f"{population.id}:{period.end}",
                        f"no review of '{population.id}' for {period}, due {due}",
                        control.loc("populations", index),
                    )


@rule(
    "CAD-2",
    "Review completed late",
    "cadence",
    Severity.MEDIUM,
    hint="Complete reviews by their due date; explain late ones in a waiver if accepted.",
)
def late_review(ctx: Context) -> Iterator[Gap]:
    """A review completed after its due date operated late, even if it is complete now.

    Timeliness is part of the control design; a late review leaves access
    unreviewed for longer than the control promises.

    Fix: schedule the campaign earlier; if the delay was accepted, record a waiver.
    """
    for review in ctx.catalog.reviews.values():
        due = ctx.due_date(review)
        if review.completed is not None and due < review.completed <= ctx.as_of:
            late = (review.completed - due).days
            yield Gap(
                review.control,
                review.id,
                f"review {review.id} was completed on {review.completed}, {late} day(s) after its due date {due}",
                review.loc("completed"),
            )


RULES = (overdue_review, late_review)
