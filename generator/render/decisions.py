"""The decisions of a review in a narrative: all of them for a small control; for a large
one, the exceptions to the rule, the control's audit sample, and the complete list as data.

An auditor does not read seventy pages of "keep". When the reviews of the assessed period
hold more than :data:`FULL_TABLE_MAX` decisions *in all* (counted per narrative, not per
review: four quarterly reviews of 58 privileged accounts are 230 rows), each review's table
shows every decision that is not a plain keep (revoke, modify, undecided, late or
incomplete, or named by an open finding) and the plain keeps in the control's audit sample:
the sample ``controlbook sample --control <ID>`` draws with its defaults
(:func:`generator.evaluation.sampling.draw`: every decision of the period ranked by
``sha256(seed + key)``, seed ``<control>:<start>:<end>``, the settings' population sample
size, 25 by default), so the narrative prints the very items the auditor tests. Every
decision of every review of such a narrative is attached to the PDF/A-3 as CSV, named in
the text and hashed in the evidence manifest.

A narrative of at most :data:`FULL_TABLE_MAX` decisions (a break-glass control: four
reviews of ten accounts) prints every one and attaches no list.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ..diagnostics import safe_cell
from ..evaluation.sampling import Sample, item_key
from ..model import Decision, Review, ReviewItem
from ..views import PersonView

FULL_TABLE_MAX = 60
"""A narrative whose reviews of the period hold at most this many decisions in all shows
every one of them; above it, the exceptions and the audit sample's keeps."""

REVIEWERS_SHOWN_MAX = 12
"""Reviews with at most this many reviewers name every one of them. A larger review (at
full size a user access review has hundreds: every manager reviews their reports) names
only the reviewers who are not employed named persons, and attaches the whole list as CSV:
printed, 800 names took eight pages per review."""

REVIEWER_COLUMNS = ("person", "name", "title", "kind", "employed_at_as_of")

COLUMNS = (
    "account", "system", "entitlement", "decision", "decided_by", "decided_at",
    "remediation_ticket", "removed_on", "comment",
)  # fmt: skip


@dataclass(frozen=True)
class DecisionList:
    """The complete decisions of a review, as the CSV attached to the narrative."""

    name: str
    data: bytes
    rows: int
    content: str = "review decisions"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class AuditSample:
    """The control's audit sample, as ``controlbook sample`` draws it (plain data)."""

    seed: str
    size: int
    """Decisions drawn (the settings' population sample size, or fewer in a small period)."""
    population: int
    """Decisions of the reviews of the period."""
    population_sha256: str
    keys: tuple[str, ...]
    """The drawn keys (review|system|account|entitlement), in rank order."""

    @classmethod
    def of(cls, sample: Sample) -> AuditSample:
        return cls(
            sample.seed,
            sample.size,
            sample.population_size,
            sample.population_sha256,
            tuple(item.key for item in sample.items),
        )


@dataclass(frozen=True)
class Selection:
    """Which decisions the narrative's table shows (indexes into the review's items)."""

    shown: tuple[int, ...]
    exceptions: int
    keeps: int
    keeps_sampled: int
    full_list: DecisionList | None


def summarised(decisions: int, *, full_max: int = FULL_TABLE_MAX) -> bool:
    """Whether a narrative whose reviews hold ``decisions`` in all shows only the exceptions
    and the audit sample's keeps."""
    return decisions > full_max


def decision_list(review: Review) -> DecisionList:
    """Every decision of the review as CSV. Text a person wrote goes through
    :func:`safe_cell`; decisions, dates and timestamps cannot start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(
        (
            safe_cell(item.account),
            safe_cell(item.system),
            safe_cell(item.entitlement),
            str(item.decision or ""),
            safe_cell(item.decided_by),
            item.decided_at.isoformat() if item.decided_at else "",
            safe_cell(remediation.ticket) if remediation else "",
            remediation.completed.isoformat() if remediation and remediation.completed else "",
            safe_cell(item.comment),
        )
        for item in review.items
        for remediation in (item.remediation,)
    )
    data = out.getvalue().encode("utf-8")
    return DecisionList(f"decisions-{review.id}.csv", data, len(review.items))


@dataclass(frozen=True)
class Reviewers:
    """The reviewers a review's table names, out of ``total``; ``full_list`` when some are
    only in the attached CSV."""

    shown: tuple[PersonView, ...]
    total: int
    full_list: DecisionList | None


def reviewers(
    review_id: str, people: Sequence[PersonView], *, full_max: int = REVIEWERS_SHOWN_MAX
) -> Reviewers:
    """All reviewers of a small review; for a large one the reviewers an auditor must see
    (a team or a leaver reviewing), the rest in the attached ``reviewers-<ID>.csv``."""
    if len(people) <= full_max:
        return Reviewers(tuple(people), len(people), None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEWER_COLUMNS)
    for p in people:
        writer.writerow(safe_cell(v) for v in (p.id, p.name, p.title, p.kind, str(p.active)))
    data = out.getvalue().encode("utf-8")
    full = DecisionList(f"reviewers-{review_id}.csv", data, len(people), "review reviewers")
    flagged = tuple(p for p in people if p.kind != "person" or not p.active)
    return Reviewers(flagged, len(people), full)


def select(review: Review, flagged: Sequence[bool], sample: AuditSample | None) -> Selection:
    """The decisions to show: every one when ``sample`` is ``None`` (a small narrative), else
    the exceptions and the plain keeps drawn into ``sample``. ``flagged[i]`` says whether
    item ``i`` has a problem (late, incomplete, or named by an open finding)."""
    items: Sequence[ReviewItem] = review.items
    if sample is None:
        return Selection(tuple(range(len(items))), 0, 0, 0, None)
    drawn = set(sample.keys)
    plain = [i for i, item in enumerate(items) if item.decision is Decision.KEEP and not flagged[i]]
    kept = set(plain)
    exceptions = [i for i in range(len(items)) if i not in kept]
    sampled = [i for i in plain if item_key(review, items[i]) in drawn]
    return Selection(
        shown=tuple(sorted({*exceptions, *sampled})),
        exceptions=len(exceptions),
        keeps=len(plain),
        keeps_sampled=len(sampled),
        full_list=decision_list(review),
    )
