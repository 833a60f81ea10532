"""SoD exceptions: owned, independently approved, justified and time-boxed."""

from __future__ import annotations

from collections.abc import Iterator

from ...model import Severity
from ..findings import Gap
from ..validity import ExceptionStatus, covering_exception, exception_status, exceptions_for
from .base import rule
from .context import Context
from .sod import exception_control


@rule(
    "EXC-1",
    "Exception without owners, justification or independent approval",
    "exceptions",
    Severity.HIGH,
    hint="Record business owner, control owner and justification; have someone other than the requester approve.",
)
def incomplete_exception(ctx: Context) -> Iterator[Gap]:
    """An exception names who owns the risk and is approved by someone independent.

    An exception is a decision to accept a risk. It needs a business owner and a
    control owner who answer for it, a justification, and an approver who is not
    the person asking for it.

    Fix: complete the exception record and have it approved independently.
    """
    for exc in ctx.catalog.exceptions.values():
        missing = [
            name.replace("_", " ")
            for name in ("approver", "business_owner", "control_owner", "justification")
            if not getattr(exc, name)
        ]
        if missing:
            yield Gap(
                exception_control(ctx, exc),
                exc.id,
                f"exception {exc.id} has no {', '.join(missing)}",
                exc.loc("id"),
            )
        if exc.approver == exc.person:
            self_approved = f"'{exc.person}', the person it exempts"
        elif exc.approver == exc.requester:
            self_approved = f"its own requester '{exc.requester}'"
        else:
            continue
        if exc.approver:
            yield Gap(
                exception_control(ctx, exc),
                exc.id,
                f"exception {exc.id} was approved by {self_approved}",
                exc.loc("approver"),
            )


@rule(
    "EXC-2",
    "Exception without expiry or longer than policy",
    "exceptions",
    Severity.MEDIUM,
    hint="Set an expiry within the policy maximum; renew explicitly if still needed.",
)
def open_ended_exception(ctx: Context) -> Iterator[Gap]:
    """Exceptions expire, within the maximum length the policy allows.

    An exception that never expires quietly becomes the operating model; one
    longer than the policy maximum escapes periodic re-approval.

    Fix: set ``expires`` no later than ``granted`` plus ``max_exception_days``.
    """
    limit = ctx.settings.max_exception_days
    for exc in ctx.catalog.exceptions.values():
        if exc.expires is None:
            yield Gap(
                exception_control(ctx, exc),
                exc.id,
                f"exception {exc.id} never expires",
                exc.loc("id"),
            )
        elif (exc.expires - exc.granted).days > limit:
            days = (exc.expires - exc.granted).days
            yield Gap(
                exception_control(ctx, exc),
                exc.id,
                f"exception {exc.id} runs {days} days, longer than the {limit}-day maximum",
                exc.loc("expires"),
            )


@rule(
    "EXC-3",
    "Exception expired while the conflict is still held",
    "exceptions",
    Severity.HIGH,
    hint="Remove the conflicting access now, or renew the exception with a fresh approval.",
)
def expired_exception(ctx: Context) -> Iterator[Gap]:
    """When an exception expires, the conflicting access must go with it.

    An expired exception with the access still in place is an unmanaged SoD
    conflict that looks managed on paper.

    Fix: remove one of the entitlements, or renew the exception.
    """
    for held in ctx.access.conflicts:
        recorded = exceptions_for(ctx.catalog, held.person, held.ruleset, held.duties)
        if covering_exception(ctx.catalog, held.person, held.ruleset, held.duties, ctx.as_of):
            continue
        # a renewal not yet in force does not cover today
        matching = [
            e for e in recorded if exception_status(e, ctx.as_of) is ExceptionStatus.EXPIRED
        ]
        if matching:
            latest = max(matching, key=lambda e: e.expires or e.granted)
            yield Gap(
                exception_control(ctx, latest),
                latest.id,
                f"exception {latest.id} expired on {latest.expires}, but '{held.person}' still holds "
                f"{held.duties[0]} and {held.duties[1]}",
                latest.loc("expires"),
            )


RULES = (incomplete_exception, open_ended_exception, expired_exception)
