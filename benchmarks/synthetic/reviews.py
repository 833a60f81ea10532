"""Reviews: one per control and period, an item per account of the population in that
period's extract, decided by whoever the control's approval rule names.

Decisions change the world: a revoked account is gone from the next extract (unless the
removal is one of the REM-1 gaps), a modify removes one entitlement.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from generator.model.reviews import ITEMS_COLUMNS

from .accounts import Account, Extract
from .controls import Control
from .people import Directory
from .spec import DUE_DAYS, Spec
from .text import flow, scalar, write_text

REVIEW_GAPS = ("late", "late", "open", "missing", "unreviewed", "no-hash")
WINDOW = timedelta(days=10)


@dataclass(frozen=True)
class Late:
    """A review completed after its due date (a candidate for a waiver)."""

    control: str
    review: str


def label(spec: Spec, period: int) -> str:
    """``2026Q1``, ``2026H2``, ``2026M07`` or ``2026``."""
    match spec.reviews_per_control:
        case 4:
            return f"2026Q{period + 1}"
        case 2:
            return f"2026H{period + 1}"
        case 12:
            return f"2026M{period + 1:02d}"
    return "2026"


class _Decider:
    """Who decides on an account under the control's approval rule."""

    def __init__(self, people: Directory, control: Control) -> None:
        self.people = people
        self.control = control

    def __call__(self, account: Account, day: date) -> str:
        system = self.control.system
        match self.control.kind:
            case "employee" if account.person is not None and account.person > 0:
                return self.people.id(self.people.manager(account.person) or 0)
            case "service":
                return self.people.id(system.owner)
            case "break-glass":
                return self.control.owner_on(day)
        return self.people.id(system.app_owner)


def write_review(
    root: Path,
    spec: Spec,
    people: Directory,
    control: Control,
    period: int,
    accounts: list[Account],
    extract: Extract,
) -> Late | None:
    """Write one review (or none, for a missing-review gap); decisions update ``accounts``."""
    review_id = f"{control.id.removeprefix('ITGC-')}-{label(spec, period)}"
    rng = spec.rng("review", review_id)
    gap = rng.choice(REVIEW_GAPS) if rng.random() < spec.gap_rate else None
    if gap == "missing":
        return None
    start, end = spec.periods[period]
    opened = datetime.combine(end + timedelta(days=1), time(8, 0), tzinfo=UTC)
    population = [a for a in accounts if a.kind == control.kind and a.present(period)]
    if gap == "unreviewed" and population:
        del population[len(population) // 2]
    decide = _Decider(people, control)
    items: list[tuple[str, ...]] = []
    deciders: set[str] = set()
    last = opened
    for account in population:
        at = opened + timedelta(seconds=rng.randrange(int(WINDOW.total_seconds())))
        last = max(last, at)
        who = decide(account, at.date())
        deciders.add(who)
        items += _items(spec, rng, account, period, who, at, signed=gap != "open")
    due = end + timedelta(days=DUE_DAYS)
    completed = None if gap == "open" else last.date() + timedelta(days=1)
    if gap == "late":
        completed = due + timedelta(days=rng.randint(1, 10))
    lines = [
        "kind: review",
        f"id: {review_id}",
        f"control: {control.id}",
        f"population: {control.population}",
        f"period: {{start: {start.isoformat()}, end: {end.isoformat()}}}",
        f"due: {due.isoformat()}",
        f"started: {opened.date().isoformat()}",
    ]
    if completed:
        lines.append(f"completed: {completed.isoformat()}")
    lines += [
        f"reviewers: {flow(sorted(deciders))}",
        "evidence:",
        f"  system: {control.system.id}",
        "  source: Scheduled IAM extract of accounts and entitlements (job SOX_EXTRACT)",
        f"  extracted_at: {scalar(spec.snapshots[period])}",
        f"  records: {extract.rows}",
        f"  file: {extract.file}",
    ]
    if gap != "no-hash":
        lines.append(f"  sha256: {extract.sha256}")
    items_rel = f"reviews/{label(spec, period)}/{review_id}.items.csv"
    lines += [
        "items_file:",
        f"  file: {items_rel}",
        f"  sha256: {_write_items(root / items_rel, items)}",
    ]
    if completed:
        owner = control.owner_on(completed)
        lines += [
            *_attachment(root, review_id, owner, completed),
            f"sign_off: {{by: {owner}, at: {completed.isoformat()}T17:00:00Z}}",
        ]
    write_text(root / "reviews" / label(spec, period) / f"{review_id}.yaml", lines)
    return Late(control.id, review_id) if gap == "late" else None


def _write_items(path: Path, items: list[tuple[str, ...]]) -> str:
    """Write the items CSV (columns ``ITEMS_COLUMNS``); its sha256."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ITEMS_COLUMNS)
    writer.writerows(items)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _items(
    spec: Spec,
    rng: random.Random,
    account: Account,
    period: int,
    who: str,
    at: datetime,
    *,
    signed: bool,
) -> list[tuple[str, ...]]:
    """The items of one account; the decision takes effect from the next extract on. A
    decision without its date only occurs in a review not signed off (sign-off is refused
    while a decision is incomplete); a signed-off one may lack a remediation ticket."""
    incomplete = rng.random() < spec.gap_rate / 10
    draw = 1.0 if account.protected or account.kind == "break-glass" else rng.random()
    if account.kind == "employee" and draw < 0.002:
        revoked = rng.choice(account.entitlements)
        account.removed[revoked] = period + 1
        return [
            line
            for entitlement in account.entitlements
            for line in _item(
                account.name, entitlement, "revoke" if entitlement == revoked else "keep", who, at
            )
        ]
    if draw < 0.015:
        if rng.random() >= spec.gap_rate:  # else REM-1: the account is still there later
            account.last = min(account.last, period)
        return _item(account.name, None, "revoke", who, at, omit_ticket=incomplete)
    if draw < 0.025 and account.kind != "service" and len(account.entitlements) > 1:
        account.removed[account.entitlements[-1]] = period + 1
        return _item(account.name, None, "modify", who, at)
    return _item(account.name, None, "keep", who, None if incomplete and not signed else at)


def _item(
    account: str,
    entitlement: str | None,
    decision: str,
    who: str,
    at: datetime | None,
    *,
    omit_ticket: bool = False,
) -> list[tuple[str, ...]]:
    """One row: account, system, entitlement, decision, decided_by, decided_at, comment,
    remediation_ticket, remediation_completed."""
    ticket = done = ""
    if decision != "keep" and at is not None:
        number = zlib.crc32(f"{account}|{entitlement}|{at}".encode())
        ticket = "" if omit_ticket else f"RITM{number:010d}"
        done = (at + timedelta(days=3)).date().isoformat()
    when = scalar(at) if at is not None else ""
    return [(account, "", entitlement or "", decision, who, when, "", ticket, done)]


def _attachment(root: Path, review_id: str, owner: str, day: date) -> list[str]:
    rel = f"evidence/{review_id}-signoff.eml"
    body = f"From: {owner}@example.com\nSubject: {review_id} complete\nDate: {day}\n\nSigned off.\n"
    data = body.encode("utf-8")
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return [
        "attachments:",
        f"  - {{file: {rel}, sha256: {hashlib.sha256(data).hexdigest()}, "
        "description: Sign-off e-mail of the control owner}",
    ]
