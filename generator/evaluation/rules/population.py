"""Populations: each review names its system, its source and who approves, and is complete."""

from __future__ import annotations

from collections.abc import Iterator

from ...evidence.extractscan import norm
from ...model import AccountType, Severity, population_systems
from ..findings import Gap
from .base import rule
from .context import Context


@rule(
    "POP-1",
    "Review without system, population source or approval rule",
    "population",
    Severity.HIGH,
    hint="Name the system of each population, the extract a review used, and the approval rule.",
)
def undefined_review(ctx: Context) -> Iterator[Gap]:
    """An access review must say what was reviewed, from where, and who approves.

    Without a system, the population cannot be tied to an in-scope application;
    without a population source, nobody can show the review covered the right
    accounts; without an approval rule, nobody can tell whether the right person
    decided.

    Fix: set ``system`` on each population, ``approval`` on the control, and an
    ``evidence`` block on each review.
    """
    for control in ctx.catalog.controls.values():
        reviewed = bool(control.populations) or bool(ctx.catalog.reviews_of(control.id))
        if reviewed and control.approval is None:
            yield Gap(
                control.id,
                control.id,
                f"{control.id} has review populations but no approval rule",
                control.loc("populations") if control.populations else control.loc("id"),
            )
        for population in control.populations:
            if not population_systems(population):
                yield Gap(
                    control.id,
                    population.id,
                    f"population '{population.id}' of {control.id} names no system",
                    population.loc("id"),
                )
    for review in ctx.catalog.reviews.values():
        if review.evidence is None:
            yield Gap(
                review.control,
                review.id,
                f"review {review.id} records no population evidence (which extract was reviewed)",
                review.loc("id"),
            )


@rule(
    "POP-2",
    "Special accounts without a named review population",
    "population",
    Severity.HIGH,
    hint="Add a population for these accounts to a control (e.g. privileged access review).",
)
def uncovered_account_types(ctx: Context) -> Iterator[Gap]:
    """Privileged, service, break-glass and third-party accounts are reviewed explicitly.

    These accounts carry the most risk and are the ones a generic employee review
    misses. For every SOX in-scope system, each such kind of account the system
    has (declared in ``account_types`` or seen in its state at the as-of date) must belong
    to a named population of some control.

    Fix: add a population with that account type to the control that reviews the
    system, or a dedicated control.
    """
    for system in ctx.catalog.systems.values():
        if not system.sox_in_scope:
            continue
        kinds = set(system.account_types) | ctx.access.account_types_seen.get(system.id, set())
        reviewing = sorted(
            c.id
            for c in ctx.catalog.controls.values()
            if any(system.id in population_systems(p) for p in c.populations)
        )  # the finding belongs to the control that already reviews this system, if any
        for kind in sorted(kinds - {AccountType.EMPLOYEE}, key=list(AccountType).index):
            if not ctx.controls_covering(system.id, kind):
                yield Gap(
                    reviewing[0] if reviewing else None,
                    f"{system.id}:{kind}",
                    f"{system.name} has {kind.label} accounts, but no control names a review "
                    "population for them",
                    system.loc("account_types") if system.account_types else system.loc("id"),
                )


@rule(
    "POP-3",
    "Population evidence incomplete",
    "population",
    Severity.HIGH,
    hint="Record source, extraction time, row count and sha256 of the extract, and review every account in it.",
)
def incomplete_population(ctx: Context) -> Iterator[Gap]:
    """The population is evidence (IPE): its origin is recorded and every account reviewed.

    Auditors test completeness and accuracy of the population: where the list came
    from, when it was taken, how many rows it had and its hash. Accounts present
    in the extract but absent from the review were never looked at.

    Fix: complete the ``evidence`` block; add review items for the missing accounts.
    """
    for review in ctx.catalog.reviews.values():
        evidence = review.evidence
        if evidence is None:
            continue  # POP-1
        missing = [
            name
            for name in ("file", "source", "extracted_at", "records", "sha256")
            if getattr(evidence, name) is None
        ]
        if missing:
            yield Gap(
                review.control,
                review.id,
                f"population evidence of {review.id} lacks {', '.join(missing)}",
                review.loc("evidence"),
            )
        extract = ctx.review_extract(review)
        population = ctx.population_of(review)
        if extract is None or population is None or evidence.file is None:
            continue
        kinds = {str(t) for t in population.account_types}
        # accounts and entitlements compare as norm() makes them: case and spaces do not count
        # in an extract over several systems an account is "system/account" (item_key)
        keys = ctx.item_keys(review)
        whole = {k for i, k in zip(review.items, keys, strict=True) if i.entitlement is None}
        pairs = {(k, norm(i.entitlement)) for i, k in zip(review.items, keys, strict=True)}
        in_scope = {
            a
            for a in set().union(*(extract.by_type.get(k, ()) for k in kinds))
            if norm(a) not in whole
        }
        decided = {a for a, _e in pairs}
        unreviewed = {a for a in in_scope if norm(a) not in decided}
        shared = ctx.extracts.has_system_column(evidence.file)
        for account in in_scope - unreviewed:  # decided entitlement by entitlement
            system, _, plain = account.rpartition("/") if shared else ("", "", account)
            rows = ctx.extracts.find(
                evidence.file, account=plain, system=system if shared else None
            )
            if any(
                r.account_type in kinds and (norm(account), norm(r.entitlement)) not in pairs
                for r in rows
            ):
                unreviewed.add(account)
        if unreviewed:
            names = sorted(unreviewed)
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            held = {norm(a) for a, p in extract.holders.items() if p.strip()}
            nobody = sorted(a for a in unreviewed if norm(a) not in held)
            why = (
                f" ({len(nobody)} of them with no person in the extract: uncorrelated "
                f"accounts, which a campaign by identity leaves out: {', '.join(nobody[:5])}"
                f"{' ...' if len(nobody) > 5 else ''})"
                if nobody
                else ""
            )
            yield Gap(
                review.control,
                review.id,
                f"{len(unreviewed)} account(s) in the extract of {review.id} were not "
                f"reviewed: {shown}{why}",
                review.items_loc(),
            )


RULES = (undefined_review, uncovered_account_types, incomplete_population)
