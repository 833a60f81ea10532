"""``controlbook import sailpoint-campaign FILE... --review ID``: a SailPoint campaign's
reports (read by :mod:`.sailpoint`) become the review's decisions, remediation and
sign-off, all or nothing.

* The decisions are written to ``<review>.items.csv`` beside the review file (the columns
  of :data:`ITEMS_COLUMNS`), registered as ``items_file: {file, sha256}``; each raw report
  is kept unchanged under ``evidence/raw/reviews/<REVIEW>/`` and listed under the review's
  ``attachments:`` with its sha256 and what it is. The review file is edited in place
  (new keys appended, ``items_file:`` replaced, new attachments appended after the last
  one), every other byte and comment kept; the new text must parse to the old document
  plus exactly those changes.
* ``sign_off:`` and ``completed:`` are set only when every certification in the Sign Off
  report is signed off *and* no item of the Status report is undecided. A sign-off over
  undecided items (an administrator completed the campaign, or the report is older than
  the decisions) is not recorded: the import says so, and the attachment says what the
  report claims. A review with decisions written by hand under ``items:`` is refused.
* Accounts of the reviewed extract that the campaign did not contain are listed with the
  likely reason (POP-3 then reports them): SailPoint certifies correlated accounts only,
  and a campaign filter may exclude entitlements.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from ...catalog.loader import load_catalog
from ...catalog.parsecache import ParseCache
from ...diagnostics import did_you_mean
from ...errors import InputError
from ...model import Catalog, Decision, Review, population_systems
from ...model.reviews import ITEMS_COLUMNS
from ..catalogwrite import (
    commit_files,
    file_of,
    folder_name,
    read_raw,
    same_bytes,
    yaml_scalar,
)
from ..reviewtext import ReviewText
from .core import AccountMapping, mapping_json, read_mapping, utc_text
from .sailpoint import (
    FORMAT,
    Campaign,
    CampaignMapping,
    Report,
    SignOffRow,
    StatusRow,
    read_reports,
)


@dataclass(frozen=True)
class CampaignRequest:
    files: tuple[Path, ...]
    catalog: Path
    review: str
    system: str | None = None
    mapping: Path | None = None


@dataclass(frozen=True)
class CampaignResult:
    review_file: str
    items_file: str
    raw: tuple[str, ...]
    items: int
    decided: dict[str, int]
    undecided: int
    sign_off: str | None
    not_in_campaign: tuple[str, ...]
    """``ACCOUNT (reason)`` for each account of the extract the campaign left out."""
    extract: str | None
    notes: tuple[str, ...]
    written: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        return not self.written


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


# --- people and systems ----------------------------------------------------------------


class _People:
    """Reviewer (as the report writes them) -> person ID: the mapping's ``people:``, then a
    person ID, an e-mail address or a display name of the directory (case-insensitive)."""

    def __init__(self, catalog: Catalog, mapping: CampaignMapping) -> None:
        self.known: dict[str, str] = {}
        for person in catalog.people.values():
            for key in (person.name, person.email or "", person.id):
                if key:
                    self.known[_fold(key)] = person.id
        self.known.update({_fold(k): v for k, v in mapping.people.items()})
        self.ids = set(catalog.people)

    def find(self, *names: str) -> str | None:
        for name in names:
            person = self.known.get(_fold(name)) if name.strip() else None
            if person is not None:
                return person
        return None


def _review_systems(catalog: Catalog, review: Review) -> list[str]:
    evidence = review.evidence
    if evidence is not None and evidence.systems:
        return list(evidence.systems)
    if evidence is not None and evidence.system:
        return [evidence.system]
    control = catalog.controls.get(review.control)
    population = control.population(review.population) if control else None
    return population_systems(population) if population else []


def _system_of(
    source: str, mapping: CampaignMapping, given: str | None, systems: list[str]
) -> str | None:
    if source in mapping.systems:
        return mapping.systems[source]
    if given:
        return given
    return systems[0] if len(systems) == 1 else None


# --- the items file --------------------------------------------------------------------


@dataclass
class _Item:
    row: StatusRow
    system: str
    decided_by: str
    ticket: str = ""
    completed: date | None = None


def _items(
    campaign: Campaign,
    people: _People,
    mapping: CampaignMapping,
    given: str | None,
    systems: list[str],
) -> dict[tuple[str, str, str], _Item]:
    unknown: dict[str, str] = {}
    unmapped: dict[str, str] = {}
    items: dict[tuple[str, str, str], _Item] = {}
    for row in campaign.status:
        system = _system_of(row.source, mapping, given, systems)
        if system is None or system not in systems:
            unmapped.setdefault(row.source, f"{row.where}" + (f" -> {system}" if system else ""))
            continue
        decided = row.decision is not None and bool(row.reviewer)
        person = people.find(row.reviewer, row.reviewer_email) if decided else None
        if decided and person is None:
            unknown.setdefault(row.reviewer, str(row.where))
            continue
        key = (system, row.account.lower(), row.access)
        first = items.get(key)
        if first is not None and (first.row.decision, first.decided_by) != (
            row.decision,
            person or "",
        ):
            raise InputError(
                f"{row.where}: a second decision on {row.account!r} ({row.access}); the first "
                f"is at {first.row.where}"
            )
        items.setdefault(key, _Item(row, system, person or ""))
    if unmapped:
        listed = ", ".join(f"{s!r} ({w})" for s, w in sorted(unmapped.items()))
        raise InputError(
            f"source(s) that are no system of review {', '.join(systems) or '-'}: {listed}; "
            "map them under systems: in --mapping (or give --system for a one-system review)"
        )
    if unknown:
        listed = ", ".join(f"{r!r} ({w})" for r, w in sorted(unknown.items()))
        raise InputError(
            f"reviewer(s) that are no person of the directory: {listed}; map them under "
            "people: in --mapping (name as the report writes it: person ID); nothing was written"
        )
    for fix in campaign.remediation:
        system = _system_of(fix.source, mapping, given, systems) or ""
        item = items.get((system, fix.account.lower(), fix.access))
        if item is None or item.row.decision is not Decision.REVOKE:
            raise InputError(
                f"{fix.where}: remediation of {fix.account!r} ({fix.access}) matches no Revoke "
                "decision of the Campaign Status Report"
            )
        item.ticket, item.completed = fix.ticket, fix.completed
    return items


def _items_csv(items: dict[tuple[str, str, str], _Item], several: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEMS_COLUMNS)
    for key in sorted(items):
        item = items[key]
        row = item.row
        values = {
            "account": row.account,
            "system": item.system if several else "",
            "entitlement": row.access,
            "decision": str(row.decision) if row.decision else "",
            "decided_by": item.decided_by,
            "decided_at": utc_text(row.decided_at) if row.decided_at else "",
            "comment": row.comment,
            "remediation_ticket": item.ticket,
            "remediation_completed": item.completed.isoformat() if item.completed else "",
        }
        writer.writerow([values[c] for c in ITEMS_COLUMNS])
    return out.getvalue().encode()


# --- the population the campaign left out ------------------------------------------------


def _left_out(
    catalog: Catalog, review: Review, items: dict[tuple[str, str, str], _Item], systems: list[str]
) -> tuple[str | None, list[str]]:
    evidence = review.evidence
    control = catalog.controls.get(review.control)
    population = control.population(review.population) if control else None
    if evidence is None or evidence.file is None or population is None:
        return None, []
    path = catalog.resolve(evidence.file)
    if path is None or not path.is_file():
        return evidence.file, []
    kinds = {str(t) for t in population.account_types}
    campaign = {(system, account) for system, account, _ in items}
    missing: dict[tuple[str, str], str] = {}
    text = path.read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        system = (row.get("system") or "").strip() or (systems[0] if systems else "")
        account = (row.get("account") or "").strip()
        if not account or (kinds and (row.get("account_type") or "").strip() not in kinds):
            continue
        if (system, account.lower()) in campaign:
            continue
        reason = (
            "excluded by the campaign's filter, or its identity was not in the campaign"
            if (row.get("person") or "").strip()
            else "no person behind it: SailPoint certifies correlated accounts only"
        )
        missing.setdefault((system, account), reason)
    shown = [
        f"{account} ({reason})" if len(systems) == 1 else f"{system}/{account} ({reason})"
        for (system, account), reason in sorted(missing.items(), key=lambda m: m[0][1].lower())
    ]
    return evidence.file, shown


# --- sign-off --------------------------------------------------------------------------


def _sign_off(
    campaign: Campaign, people: _People, undecided: int
) -> tuple[SignOffRow | None, str | None, list[str]]:
    """The sign-off to record (the last certification signed, when all are), the person,
    and notes on why none is recorded."""
    rows = campaign.sign_off
    if not rows:
        return None, None, []
    unsigned = [r for r in rows if r.signed_at is None]
    incomplete = [
        r
        for r in rows
        if r.decisions_made is not None
        and r.decisions_total is not None
        and r.decisions_made < r.decisions_total
    ]
    last = max(
        (r for r in rows if r.signed_at is not None), key=lambda r: r.signed_at, default=None
    )
    if unsigned:
        names = ", ".join(r.certification for r in unsigned)
        return None, None, [f"no sign-off recorded: not signed off yet: {names}"]
    if undecided or incomplete:
        return (
            None,
            None,
            [
                f"no sign-off recorded: the Certification Sign Off Report shows sign-off while "
                f"{undecided or sum((r.decisions_total or 0) - (r.decisions_made or 0) for r in incomplete)} "
                "item(s) have no decision (EVD-1); decide them, or record why they were left"
            ],
        )
    assert last is not None
    person = people.find(last.reviewer, last.reviewer_email)
    if person is None:
        raise InputError(
            f"{last.where}: sign-off by {last.reviewer!r}, who is no person of the directory; "
            "map them under people: in --mapping; nothing was written"
        )
    return last, person, []


# --- the import --------------------------------------------------------------------------


def run_campaign_import(
    request: CampaignRequest, cache: ParseCache | None = None
) -> CampaignResult:
    catalog = load_catalog(request.catalog, cache=cache)
    review = catalog.reviews.get(request.review)
    if review is None:
        hint = did_you_mean(request.review, catalog.reviews)
        raise InputError(
            f"--review {request.review!r} is not a review of {catalog.display_root}{hint}"
        )
    if review.items and getattr(review, "items_file", None) is None:
        raise InputError(
            f"{review.loc('items')}: review {review.id} already records {len(review.items)} "
            "decision(s) under items:; a campaign import writes them to items_file: (remove "
            "items: to import the campaign); nothing was written"
        )
    systems = _review_systems(catalog, review)
    if request.system is not None and request.system not in systems:
        hint = did_you_mean(request.system, systems)
        raise InputError(
            f"--system {request.system!r} is not a system of review {review.id} "
            f"({', '.join(systems) or 'none'}){hint}"
        )
    mapping = cast(
        CampaignMapping,
        read_mapping(request.mapping, cast(type[AccountMapping], CampaignMapping)),
    )
    for source, system in mapping.systems.items():
        if system not in systems:
            raise InputError(
                f"{request.mapping}: systems: {source!r} -> {system!r}, which is no system of "
                f"review {review.id} ({', '.join(systems)})"
            )
    raws = [(path, read_raw(path)) for path in request.files]
    campaign = read_reports(raws)
    people = _People(catalog, mapping)
    items = _items(campaign, people, mapping, request.system, systems)
    undecided = sum(1 for i in items.values() if i.row.decision is None)
    signed, signer, notes = _sign_off(campaign, people, undecided)
    extract, left_out = _left_out(catalog, review, items, systems)

    review_rel = file_of(catalog, review.source_file)
    folder = Path(review_rel).parent.as_posix()
    items_rel = f"{folder}/{Path(review_rel).stem}.items.csv"
    items_bytes = _items_csv(items, len(systems) > 1)
    raw_dir = f"evidence/raw/reviews/{folder_name(review.id)}"
    name = campaign.names[0] if campaign.names else ""
    files: list[tuple[str, bytes]] = [(items_rel, items_bytes)]
    attachments: list[tuple[str, str, str]] = []
    for report, path, raw in campaign.files:
        # not *.csv: check would read a CSV attachment as an account extract
        rel = f"{raw_dir}/{report.slug}-{_sha(raw)[:12]}.csv.raw"
        what = f"SailPoint {report.value} of campaign {name!r}, as downloaded ({path.name})"
        if report is Report.SIGN_OFF and signed is None and notes:
            what += f"; {notes[0]}"
        files.append((rel, raw))
        attachments.append((rel, _sha(raw), what))
    if request.mapping is not None:
        data = mapping_json(cast(AccountMapping, mapping))
        rel = f"{raw_dir}/mapping-{_sha(data)[:12]}.json"
        files.append((rel, data))
        attachments.append(
            (rel, _sha(data), "Mapping of SailPoint reviewers and sources used by the import")
        )

    shown = catalog.display_path(review_rel)
    old = (catalog.root / review_rel).read_bytes()
    text = ReviewText(old, shown)
    entry = {"file": items_rel, "sha256": _sha(items_bytes)}
    if text.data.get("items_file") != entry:
        text.set(
            "items_file",
            ["items_file:", f"  file: {yaml_scalar(items_rel)}", f"  sha256: {entry['sha256']}"],
            entry,
        )
    if signed is not None and signer is not None and signed.signed_at is not None:
        at = utc_text(signed.signed_at)
        current = text.data.get("sign_off")
        wanted = {"by": signer, "at": at}
        if current is None:
            text.set(
                "sign_off", ["sign_off:", f"  by: {yaml_scalar(signer)}", f"  at: {at}"], wanted
            )
        elif not (
            isinstance(current, dict)
            and current.get("by") == signer
            and _moment_text(current.get("at")) == at
        ):
            raise InputError(
                f"{review.loc('sign_off')}: sign_off already records {current.get('by') if isinstance(current, dict) else current} "
                f"at {_moment_text(current.get('at')) if isinstance(current, dict) else '?'}; the "
                f"report says {signer} at {at} ({signed.where}); nothing was written"
            )
        day = signed.signed_at.date()
        completed = text.data.get("completed")
        if completed is None:
            text.set("completed", [f"completed: {day.isoformat()}"], day.isoformat())
        elif str(completed) != day.isoformat():
            raise InputError(
                f"{review.loc('completed')}: completed: {completed}, but the last sign-off "
                f"was on {day} ({signed.where}); nothing was written"
            )
    listed = {
        a.get("file"): a.get("sha256")
        for a in text.data.get("attachments") or []
        if isinstance(a, dict)
    }
    new = [a for a in attachments if a[0] not in listed]
    if new:
        text.append(
            "attachments",
            [
                [f"file: {yaml_scalar(rel)}", f"sha256: {sha}", f"description: {yaml_scalar(what)}"]
                for rel, sha, what in new
            ],
            [{"file": rel, "sha256": sha, "description": what} for rel, sha, what in new],
        )
    review_bytes = text.result()
    writes = [(rel, data) for rel, data in files if not same_bytes(catalog.root / rel, data)]
    if review_bytes != old:
        writes.append((review_rel, review_bytes))
    commit_files(catalog.root, writes, guard=(review_rel, old))
    decided: dict[str, int] = {}
    for item in items.values():
        if item.row.decision is not None:
            decided[str(item.row.decision)] = decided.get(str(item.row.decision), 0) + 1
    return CampaignResult(
        review_file=shown,
        items_file=catalog.display_path(items_rel),
        raw=tuple(catalog.display_path(rel) for rel, _sha256, _what in attachments),
        items=len(items),
        decided=decided,
        undecided=undecided,
        sign_off=f"{signer} at {utc_text(signed.signed_at)}"
        if signed and signed.signed_at
        else None,
        not_in_campaign=tuple(left_out),
        extract=extract,
        notes=tuple(notes),
        written=tuple(catalog.display_path(rel) for rel, _ in writes),
    )


def _moment_text(value: Any) -> str:
    if isinstance(value, datetime):
        return utc_text(value)
    return str(value)


FORMATS: Sequence[str] = (FORMAT,)
