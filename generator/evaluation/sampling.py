"""Reproducible audit samples: what to test, chosen so an auditor can choose it again.

Selection needs no Controlbook to re-perform: each item of the population has a key (a
line of text); items are ranked by ``sha256(seed + key)`` written in hexadecimal, and the
first ``n`` are the sample. With a shell::

    while IFS= read -r key; do
        printf '%s %s\\n' "$(printf '%s' "$SEED$key" | sha256sum | cut -d' ' -f1)" "$key"
    done < population.txt | sort | head -n N

The seed and the SHA-256 of the population (its keys, one per line, sorted) are printed
with the sample, so a reviewer can check that nobody picked the items or the population.

Sample sizes follow common ITGC practice for a control of each frequency (annual 1,
quarterly 2, monthly 2, weekly 5, daily 25, several times a day 25) and, for a population
test such as a user access review, 25 items with no expected deviation; the settings'
``sample_sizes`` override any of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from ..diagnostics import Location
from ..model import Catalog, Control, Period, Review, ReviewItem
from .evaluate import Evaluation

DEFAULT_SIZES: dict[str, int] = {
    "annual": 1,
    "semi-annual": 1,
    "quarterly": 2,
    "monthly": 2,
    "weekly": 5,
    "daily": 25,
    "continuous": 25,
    "event-driven": 25,
    "population": 25,
}
"""Sample sizes by control frequency, and ``population`` for testing a review's items."""

ATTRIBUTES = ("decision recorded", "decider authorised", "decided in time", "remediation in time")
"""What an auditor tests on each sampled review item, and the rules that already judge it."""

_JUDGED_BY = {
    "decision recorded": ("EVD-1",),
    "decider authorised": ("REV-1", "SOD-1", "SOD-2"),
    "decided in time": ("CAD-1", "CAD-2"),
    "remediation in time": ("REM-1",),
}


@dataclass(frozen=True)
class SampledItem:
    """One decision selected for testing, with what evaluation found about it."""

    rank: int
    key: str
    digest: str
    review: str
    account: str
    entitlement: str
    decision: str
    decided_by: str
    decided_at: str
    source: Location
    attributes: tuple[tuple[str, str], ...]
    """(attribute, "yes" / "no: RULE message"), in the order of :data:`ATTRIBUTES`."""


@dataclass(frozen=True)
class Sample:
    """A control's sample for a period, with everything needed to re-perform it."""

    control: str
    period: str
    seed: str
    population_size: int
    population_sha256: str
    size: int
    items: tuple[SampledItem, ...]
    population: tuple[str, ...]
    """Every key of the population, sorted (``--population`` writes them, one per line)."""

    @property
    def method(self) -> str:
        return (
            f"rank each population key K by sha256('{self.seed}' + K) in hexadecimal, "
            f"ascending; take the first {self.size}"
        )


def item_key(review: Review, item: ReviewItem) -> str:
    """The item's key in the population: review, system, account and entitlement."""
    return "|".join((review.id, item.system or "", item.account, item.entitlement or ""))


def rank(seed: str, keys: list[str]) -> list[tuple[str, str]]:
    """``(digest, key)`` for every key, in sample order."""
    return sorted((hashlib.sha256((seed + key).encode()).hexdigest(), key) for key in keys)


def population_digest(keys: list[str]) -> str:
    """SHA-256 of the population: its keys, sorted, one per line (each ending in a newline)."""
    return hashlib.sha256("".join(f"{k}\n" for k in sorted(keys)).encode()).hexdigest()


def default_seed(control: Control, start: date, end: date) -> str:
    """A seed nobody chose: the control and the period (an auditor may give their own)."""
    return f"{control.id}:{start.isoformat()}:{end.isoformat()}"


def sample_size(catalog: Catalog, what: str) -> int:
    return catalog.settings.sample_sizes.get(what, DEFAULT_SIZES.get(what, 25))


def draw(
    catalog: Catalog,
    evaluation: Evaluation,
    control: Control,
    *,
    seed: str | None = None,
    size: int | None = None,
    period: Period | None = None,
) -> Sample:
    """The sample of ``control``'s review items of the reviews that overlap ``period``
    (default: the assessed period): a population test."""
    period = period or evaluation.period
    reviews = [
        r
        for r in catalog.reviews_of(control.id)
        if r.period.start <= period.end and r.period.end >= period.start
    ]
    items = {item_key(r, i): (r, i) for r in reviews for i in r.items}
    seed = seed if seed is not None else default_seed(control, period.start, period.end)
    wanted = size if size is not None else sample_size(catalog, "population")
    chosen = rank(seed, list(items))[:wanted]
    open_by_subject: dict[str, list[tuple[str, str]]] = {}
    for finding in evaluation.for_control(control.id):
        if finding.is_open:
            open_by_subject.setdefault(finding.subject, []).append((finding.rule, finding.message))
    sampled = []
    for number, (digest, key) in enumerate(chosen, start=1):
        review, item = items[key]
        sampled.append(
            SampledItem(
                rank=number,
                key=key,
                digest=digest,
                review=review.id,
                account=item.account,
                entitlement=item.entitlement or "",
                decision=str(item.decision or ""),
                decided_by=item.decided_by or "",
                decided_at=item.decided_at.isoformat() if item.decided_at else "",
                source=item.loc(),
                attributes=_attributes(review, item, open_by_subject),
            )
        )
    return Sample(
        control=control.id,
        period=f"{period.start} to {period.end}",
        seed=seed,
        population_size=len(items),
        population_sha256=population_digest(list(items)),
        size=len(sampled),
        items=tuple(sampled),
        population=tuple(sorted(items)),
    )


def _attributes(
    review: Review, item: ReviewItem, open_by_subject: dict[str, list[tuple[str, str]]]
) -> tuple[tuple[str, str], ...]:
    """Each attribute as evaluation judged it: "no: RULE message" when a rule found a gap on
    this item (or on its review, for timeliness), else "yes"."""
    about_item = [
        *open_by_subject.get(f"{review.id}:{item.account}", []),
        *open_by_subject.get(f"{review.id}:{item.decided_by}", []),  # SOD-2 names the decider
    ]
    about_review = open_by_subject.get(review.id, [])
    out = []
    for attribute in ATTRIBUTES:
        rules = _JUDGED_BY[attribute]
        pool = about_review if attribute == "decided in time" else about_item
        if attribute == "decision recorded" and not (item.decision and item.decided_by):
            out.append((attribute, "no: decision or decider missing"))
            continue
        if attribute == "remediation in time" and not (
            item.decision and item.decision.needs_remediation
        ):
            out.append((attribute, "not applicable (nothing to remove)"))
            continue
        gaps = [f"{rule} {message}" for rule, message in pool if rule in rules]
        out.append((attribute, f"no: {gaps[0]}" if gaps else "yes"))
    return tuple(out)
