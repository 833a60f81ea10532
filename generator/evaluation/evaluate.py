"""Run every rule over a catalog at an as-of date, apply waivers, and say what was not assessed."""

from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property

from ..diagnostics import Location
from ..errors import ControlbookError
from ..evidence.extracts import ExtractStore
from ..model import Catalog, Period, Severity, Waiver
from .findings import Finding, NotAssessed, Status, WaiverRef
from .rules import RULES, Context, Rule

INTERNAL_ERROR = "ERR-1"
"""Rule ID of the finding that replaces a rule which crashed."""


@dataclass(frozen=True)
class Evaluation:
    """The result of evaluating a catalog: findings (open and waived) and the limits of the run."""

    organisation: str
    as_of: date
    period: Period
    findings: tuple[Finding, ...]
    not_assessed: tuple[NotAssessed, ...]
    rules: tuple[Rule, ...]
    controls: tuple[str, ...]
    context: Context | None = field(default=None, repr=False, compare=False)
    """The facts the rules derived (hashes, extract summaries, access), for the views."""
    inputs: str | None = field(default=None, compare=False)
    """A digest of everything the rules read (the key of :mod:`.evalcache`), when it was
    worked out and no rule crashed: the same inputs give the same findings."""

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if f.is_open]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_open]

    def by_severity(self) -> dict[Severity, int]:
        """Open findings per severity, every severity present (0 when none)."""
        counts = Counter(f.severity for f in self.open)
        return {s: counts.get(s, 0) for s in Severity}

    def failing(self, threshold: Severity) -> list[Finding]:
        """Open findings at or above ``threshold`` (and any internal error)."""
        return [f for f in self.open if f.severity.at_least(threshold) or f.rule == INTERNAL_ERROR]

    @cached_property
    def _by_control(self) -> tuple[dict[str, list[Finding]], dict[str, list[NotAssessed]]]:
        findings: dict[str, list[Finding]] = {}
        notes: dict[str, list[NotAssessed]] = {}
        for finding in self.findings:
            findings.setdefault(finding.control or "", []).append(finding)
        for note in self.not_assessed:
            notes.setdefault(note.control or "", []).append(note)
        return findings, notes

    def for_control(self, control_id: str) -> list[Finding]:
        return list(self._by_control[0].get(control_id, []))

    def not_assessed_for(self, control_id: str) -> list[NotAssessed]:
        return list(self._by_control[1].get(control_id, []))


def _waiver_ref(waiver: Waiver) -> WaiverRef:
    return WaiverRef(waiver.id, waiver.approver, waiver.expires, waiver.reason, waiver.loc("id"))


def _apply_waivers(findings: list[Finding], ctx: Context) -> list[Finding]:
    waivers: dict[tuple[str, str], list[Waiver]] = {}
    for waiver in ctx.catalog.waivers.values():
        waivers.setdefault((waiver.rule, waiver.control), []).append(waiver)
    out: list[Finding] = []
    for finding in findings:
        matches = [
            w
            for w in waivers.get((finding.rule, finding.control or ""), [])
            if w.subject is None or w.subject == finding.subject
        ]
        governed = [
            w
            for w in matches
            if w.approver and w.reason and w.expires and ctx.active(w.approver, ctx.as_of)
        ]
        current = [w for w in governed if w.expires and w.expires >= ctx.as_of]
        if current:
            out.append(replace(finding, status=Status.WAIVED, waiver=_waiver_ref(current[0])))
        elif governed:
            expired = max(governed, key=lambda w: w.expires or date.min)
            note = (
                f"waiver {expired.id} expired on {expired.expires} and no longer hides this finding"
            )
            out.append(replace(finding, waiver=_waiver_ref(expired), notes=(*finding.notes, note)))
        else:
            out.append(finding)
    return out


def _not_assessed(ctx: Context) -> list[NotAssessed]:
    """Plain statements of what this run could not judge, so silence is never read as clean."""
    notes: list[str] = []
    if ctx.window is None:
        notes.append(
            NotAssessed(
                None,
                f"The assessed period starts after the as-of date {ctx.as_of}: nothing has "
                "operated yet.",
            )
        )
    for control in ctx.catalog.controls.values():
        if not control.populations:
            if control.frequency.months is not None or ctx.catalog.reviews_of(control.id):
                notes.append(
                    NotAssessed(
                        control.id,
                        "no review population is defined, so its operation was not assessed.",
                    )
                )
            else:
                notes.append(
                    NotAssessed(
                        control.id,
                        f"{control.frequency} control without review populations; its "
                        "operating evidence is outside what Controlbook evaluates.",
                    )
                )
            continue
        if control.frequency.months is None:
            notes.append(
                NotAssessed(
                    control.id,
                    f"{control.frequency} cadence is not assessed (CAD-1 covers monthly to annual).",
                )
            )
            continue
        due_days = timedelta(days=ctx.due_days(control))
        upcoming = [p for p in ctx.expected_periods(control) if p.end + due_days >= ctx.as_of]
        if upcoming:
            first = upcoming[0]
            notes.append(
                NotAssessed(
                    control.id,
                    f"the review for {first} is not due until {first.end + due_days}; "
                    f"{len(upcoming)} period(s) not yet assessable.",
                    missing_evidence=False,
                )
            )
    return notes


def _note_order(note: NotAssessed) -> tuple[str, str, str]:
    return (note.control or "", note.rule or "", note.text)


def evaluate(
    catalog: Catalog,
    as_of: date | None = None,
    *,
    rules: tuple[Rule, ...] = RULES,
    extracts: ExtractStore | None = None,
) -> Evaluation:
    """Evaluate ``catalog`` at ``as_of`` (default: the catalog's setting, else today).

    Data errors in referenced files (a malformed extract) raise; a rule that fails
    for any other reason becomes an ``ERR-1`` critical finding naming the rule, and
    the run continues. ``extracts`` reuses the file facts of an earlier evaluation of the
    same catalog (they do not depend on the date).
    """
    day = as_of or catalog.settings.as_of or date.today()
    ctx = Context(catalog, day, extracts)  # type: ignore[arg-type]
    findings: list[Finding] = []
    unassessed: list[NotAssessed] = []
    for current in rules:
        try:
            gaps = list(current.check(ctx))
        except ControlbookError:
            raise
        except Exception as exc:  # a bug in a rule must not hide the other rules' findings
            where = traceback.extract_tb(exc.__traceback__)[-1]
            findings.append(
                Finding(
                    INTERNAL_ERROR,
                    Severity.CRITICAL,
                    None,
                    current.id,
                    f"rule {current.id} ({current.name}) failed: {type(exc).__name__}: {exc}",
                    "This is a bug in Controlbook; please report it with the catalog that triggers it.",
                    Location(f"{where.filename}", where.lineno or 0, 0),
                )
            )
            continue
        for gap in gaps:
            if isinstance(gap, NotAssessed):
                unassessed.append(replace(gap, rule=current.id))
                continue
            findings.append(
                Finding(
                    current.id,
                    gap.severity or current.severity,
                    gap.control,
                    gap.subject,
                    gap.message,
                    gap.hint or current.hint,
                    gap.location,
                )
            )
    findings = sorted(_apply_waivers(findings, ctx), key=Finding.sort_key)
    return Evaluation(
        organisation=catalog.settings.organisation,
        as_of=day,
        period=catalog.settings.period,
        findings=tuple(findings),
        not_assessed=tuple(_not_assessed(ctx) + sorted(set(unassessed), key=_note_order)),
        rules=rules,
        controls=tuple(catalog.controls),
        context=ctx,
    )
