"""Remediation: access decided "revoke" is really removed, within the SLA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ...evidence.extracts import AccessRow, account_key
from ...evidence.extractscan import norm
from ...model import AccountType, Decision, Review, ReviewItem, Severity
from ..findings import Gap, NotAssessed
from .base import rule
from .context import Context, end_of


@rule(
    "REM-1",
    "Revoked access not removed in time",
    "remediation",
    Severity.HIGH,
    hint="Remove the access and record the completion; check the next extract no longer shows it.",
)
def unremediated_revoke(ctx: Context) -> Iterator[Gap | NotAssessed]:
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
            if done is None:
                continue  # the SLA has not ended and nothing is claimed yet
            yield from _verify_removal(ctx, review, item, ctx.item_system(review, item), done)


def _account_types(ctx: Context, review: Review, item: ReviewItem) -> list[AccountType]:
    """The account types of the item's account in the review's extract (else the
    population's)."""
    evidence = review.evidence
    found: set[AccountType] = set()
    if evidence and evidence.file and ctx.extracts.check(evidence.file).exists:
        if ctx.extracts.has_system_column(evidence.file):
            rows = ctx.extracts.find(
                evidence.file, account=item.account, system=ctx.item_system(review, item)
            )
            found = {AccountType(row.account_type) for row in rows}
        else:  # the summary knows each account's types: no search of the extract
            types = ctx.extracts.summary(evidence.file).types_of.get(norm(item.account), ())
            found = {AccountType(t) for t in types}
    if not found:
        population = ctx.population_of(review)
        found = set(population.account_types) if population else set()
    return sorted(found or {AccountType.EMPLOYEE}, key=list(AccountType).index)


def _verify_removal(
    ctx: Context, review: Review, item: ReviewItem, system: str | None, done: date
) -> Iterator[Gap | NotAssessed]:
    """The first accounts extract of the system covering the account's type, taken after
    the removal, must not show it. Reports and event logs never count: an account removed
    before such a report was run may still appear in it."""
    what = f"'{item.account}'" + (f" ({item.entitlement})" if item.entitlement else "")
    if system is None:
        return
    for account_type in _account_types(ctx, review, item):
        extract = ctx.extracts.next_accounts(system, account_type, end_of(done), end_of(ctx.as_of))
        if extract is None or not ctx.extracts.check(extract.file).exists:
            yield NotAssessed(
                review.control,
                f"REM-1 not assessed for {what}, revoked in {review.id}: no accounts extract of "
                f"{system} covering {account_type} accounts was taken after the removal on {done}.",
            )
            continue
        still = _still_held(ctx, extract.file, system, item.account, item.entitlement)
        if still:
            yield Gap(
                review.control,
                f"{review.id}:{item.account}",
                f"{what}, revoked in {review.id}, is still present in the extract of "
                f"{extract.extracted_at.date()} ({extract.file} line {still[0].line})",  # type: ignore[union-attr]
                item.loc("decision"),
            )
            return


def _still_held(
    ctx: Context, rel: str, system: str, account: str, entitlement: str | None
) -> list[AccessRow]:
    """The first row of ``rel`` that still grants the revoked access (none: removed)."""
    shared = ctx.extracts.has_system_column(rel)
    if not ctx.extracts.summary(rel).has(account_key(system if shared else None, account)):
        return []
    return ctx.extracts.find(
        rel, account=account, entitlement=entitlement, system=system if shared else None, first=True
    )


RULES = (unremediated_revoke,)
