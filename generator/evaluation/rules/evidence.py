"""Evidence: each decision is complete, each file is the one signed off, and it is kept."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date

from ...evidence.extracts import FileCheck
from ...evidence.importers.registry import rederive
from ...model import Extract, PopulationEvidence, Record, Review, Severity
from ...model.retention import describe, in_months
from ..findings import Gap, NotAssessed
from .base import rule
from .context import Context


@rule(
    "EVD-1",
    "Review decision incomplete",
    "evidence",
    Severity.HIGH,
    hint="Record decision, decided_by and decided_at; for revoke/modify, the remediation ticket.",
)
def incomplete_decision(ctx: Context) -> Iterator[Gap]:
    """Every review item shows who decided what, when, and how a removal was carried out.

    An item without a reviewer, a date or a decision is not evidence that the
    account was reviewed; a revoke without a ticket cannot be followed to the
    actual removal.

    Fix: complete the item from the review tool's export, or review it again.
    """
    for review in ctx.catalog.reviews.values():
        for item in review.items:
            missing = [
                n for n in ("decision", "decided_by", "decided_at") if getattr(item, n) is None
            ]
            if (
                item.decision
                and item.decision.needs_remediation
                and not (item.remediation and item.remediation.ticket)
            ):
                missing.append("remediation ticket")
            if missing:
                yield Gap(
                    review.control,
                    f"{review.id}:{item.account}",
                    f"review {review.id}, account '{item.account}': no {', '.join(missing)}",
                    item.loc(),
                )


def _referenced_files(review: Review) -> Iterator[tuple[str, str | None, int | None, Record]]:
    """(file, sha256, rows, the record naming it) of every file a review relies on."""
    evidence = review.evidence
    if evidence is not None and evidence.file:
        yield evidence.file, evidence.sha256, evidence.records, evidence
    for attachment in review.attachments:
        yield attachment.file, attachment.sha256, None, attachment


@rule(
    "EVD-2",
    "Evidence file missing or changed since sign-off",
    "evidence",
    Severity.CRITICAL,
    hint="Restore the file as it was at sign-off, or redo the review on the current file.",
)
def changed_evidence(ctx: Context) -> Iterator[Gap | NotAssessed]:
    """Referenced evidence exists and is byte for byte what was recorded at sign-off.

    The recorded sha256 and row count are the review's promise about what was
    reviewed. A missing file, a different hash or a different row count means the
    evidence no longer supports the conclusion, or was altered after the fact.

    An extract made by ``controlbook import`` is also re-derived from the raw export kept
    beside it: the raw file and the mapping must have their recorded sha256, and the
    importer must still turn them into the extract byte for byte.

    Fix: restore the original file from the review tool or archive; never edit a
    hash to match a changed file.
    """
    seen: set[str] = set()

    def check(
        control: str | None,
        rel: str,
        sha: str | None,
        rows: int | None,
        record: Record,
        actual: FileCheck | None = None,
    ) -> Iterator[Gap]:
        actual = actual or ctx.extracts.check(rel)
        if actual.outside:
            yield Gap(
                control,
                rel,
                f"evidence file {rel} leads outside the catalog folder (a link?) and was not read",
                record.loc("file"),
            )
        elif not actual.exists:
            yield Gap(control, rel, f"evidence file {rel} is missing", record.loc("file"))
        elif sha and actual.sha256 != sha:
            yield Gap(
                control,
                rel,
                f"{rel} has changed since it was recorded (sha256 {actual.sha256[:12]}... != {sha[:12]}...)",
                record.loc("file"),
            )
        elif rows is not None and actual.rows is not None and actual.rows != rows:
            yield Gap(
                control,
                rel,
                f"{rel} has {actual.rows} rows, {rows} were recorded",
                record.loc("file"),
            )

    def derived(
        control: str | None, extract: Extract, systems: list[str], gaps: list[Gap]
    ) -> Iterator[Gap | NotAssessed]:
        """An imported extract (``derived_from``) must still be what its importer makes of
        its raw export, when the file itself raised no finding."""
        if gaps or extract.derived_from is None or not extract.file:
            return
        found = rederive(ctx.catalog, extract, systems)
        if found.problem:
            yield Gap(control, extract.file, found.problem, extract.loc("derived_from"))
        elif found.not_assessed:
            yield NotAssessed(control, f"EVD-2: {found.not_assessed}")

    for review in ctx.catalog.reviews.values():
        if review.items_file is not None:
            rel = review.items_file.file
            state = _hashed(ctx, rel)
            yield from check(
                review.control, rel, review.items_file.sha256, None, review.items_file, state
            )
        for rel, sha, rows, record in _referenced_files(review):
            seen.add(rel)
            gaps = list(check(review.control, rel, sha, rows, record))
            yield from gaps
            if isinstance(record, PopulationEvidence):
                systems = list(record.systems) or [record.system or ""]
                yield from derived(review.control, record, systems, gaps)
    for system in ctx.catalog.systems.values():
        for extract in system.extracts:
            if extract.file and extract.file not in seen:
                gaps = list(check(None, extract.file, extract.sha256, extract.records, extract))
                yield from gaps
                yield from derived(None, extract, list(extract.systems) or [system.id], gaps)


def _hashed(ctx: Context, rel: str) -> FileCheck:
    """Whether a review's items CSV is there, and its sha256 (it is no extract: no rows
    are counted)."""
    target = ctx.extracts.path(rel)  # a regular file inside the catalog, or None
    if target is None:
        return FileCheck(exists=False, outside=ctx.catalog.resolve(rel) is None)
    try:
        with target.open("rb") as handle:
            return FileCheck(True, hashlib.file_digest(handle, "sha256").hexdigest())
    except OSError:
        return FileCheck(exists=False)


def _months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover - day 28 exists in every month


@rule(
    "EVD-3",
    "Evidence retention not stated or too short",
    "evidence",
    Severity.MEDIUM,
    hint="State the retention (settings or control), at least the policy minimum, and keep "
    "evidence that long.",
)
def short_retention(ctx: Context) -> Iterator[Gap]:
    """Evidence is kept for a stated period, at least the policy minimum, and not destroyed
    before it ends.

    SOX evidence must be available for the audit of the period and the retention
    the policy states (often seven years). Without a stated period nobody knows
    when it may go; a control stating less than the policy minimum (the settings'
    ``evidence_retention_minimum_months``, else the settings' own retention) will
    lose evidence the policy requires; a destruction date before the end of
    retention loses it too.

    Fix: state the retention (in years, or in months where the policy does); move
    the records system's destruction date.
    """
    settings = ctx.settings
    default = in_months(settings)
    minimum = settings.evidence_retention_minimum_months or default
    for control in ctx.catalog.controls.values():
        own = in_months(control)
        months = own if own is not None else default
        reviews = ctx.catalog.reviews_of(control.id)
        if months is None:
            if reviews:
                yield Gap(
                    control.id,
                    control.id,
                    f"no evidence retention period stated for {control.id}",
                    control.loc("id"),
                )
            continue
        if own is not None and minimum is not None and own < minimum:
            field = (
                "evidence_retention_months"
                if control.evidence_retention_months is not None
                else "evidence_retention_years"
            )
            yield Gap(
                control.id,
                control.id,
                f"{control.id} keeps evidence for {describe(own)}, less than the policy "
                f"minimum of {describe(minimum)}",
                control.loc(field),
            )
        for review in reviews:
            if review.retain_until is None or review.completed is None:
                continue
            needed = _months_after(review.completed, months)
            if review.retain_until < needed:
                yield Gap(
                    control.id,
                    review.id,
                    f"evidence of {review.id} is scheduled for destruction on {review.retain_until}, "
                    f"before its retention ({describe(months)}) ends on {needed}",
                    review.loc("retain_until"),
                )


RULES = (incomplete_decision, changed_evidence, short_retention)
