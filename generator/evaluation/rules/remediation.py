"""Remediation: access decided "revoke" is really removed, within the SLA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from ...evidence.extracts import AccessRow
from ...model import Decision, Severity
from ..findings import Gap
from .base import rule
from .context import Context, end_of


@rule(
    "REM-1",
    "Revoked access not removed in time",
    "remediation",
    Severity.HIGH,
    hint="Remove the access and record the completion; check the next extract no longer shows it.",
)
def unremediated_revoke(ctx: Context) -> Iterator[Gap]:
    """A revoke decision is followed by removal within the SLA, visible in the next extract.

    The review only reduces risk when the access actually goes. A revoked account
    (or entitlement) still present in a later extract of the system, a removal
    completed after the SLA, or none recorded once the SLA has passed, means the
    decision was not carried out.

    Fix: remove the access, record the ticket's completion date, and keep the
    later extract that shows it gone.
    """
    sla = timedelta(days=ctx.settings.remediation_sla_days)
    for review in ctx.catalog.reviews.values():
        system = ctx.system_of(review)
        for item in review.items:
            if item.decision != Decision.REVOKE or item.decided_at is None:
                continue
            deadline = item.decided_at.date() + sla
            done = item.remediation.completed if item.remediation else None
            if done is not None and done > ctx.as_of:
                done = None  # not known yet at the as-of date
            subject = f"{review.id}:{item.account}"
            what = f"'{item.account}'" + (f" ({item.entitlement})" if item.entitlement else "")
            if done is None and deadline < ctx.as_of:
                yield Gap(
                    review.control,
                    subject,
                    f"revoke of {what} in {review.id} is not recorded as done; the SLA ended {deadline}",
                    item.loc(),
                )
                continue
            if done is not None and done > deadline:
                yield Gap(
                    review.control,
                    subject,
                    f"revoke of {what} in {review.id} was completed on {done}, after the SLA ended {deadline}",
                    item.loc("remediation"),
                )
                continue
            since = end_of(done) if done else end_of(deadline)
            for extract in ctx.extracts.later(system or "", since) if system else []:
                if extract.extracted_at is None or extract.extracted_at.date() > ctx.as_of:
                    continue
                if not ctx.extracts.check(extract.file).exists:
                    continue
                still = _still_held(ctx, extract.file, item.account, item.entitlement)
                if still:
                    yield Gap(
                        review.control,
                        subject,
                        f"{what}, revoked in {review.id}, is still present in the extract of "
                        f"{extract.extracted_at.date()} ({extract.file} line {still[0].line})",
                        item.loc("decision"),
                    )
                    break


def _still_held(ctx: Context, rel: str, account: str, entitlement: str | None) -> list[AccessRow]:
    """The first row of ``rel`` that still grants the revoked access (none: removed)."""
    if account not in ctx.extracts.summary(rel).accounts:
        return []
    return ctx.extracts.find(rel, account=account, entitlement=entitlement, first=True)


RULES = (unremediated_revoke,)
