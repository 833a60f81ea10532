"""``controlbook review collect``: the returned worksheets become the review's items file.

Every returned file is checked against the routing of the review as the catalog gives it
now (:mod:`.routing`): it must be a worksheet of this review and its extract, issued to
a decider who has rows; each row must carry its own check (account, entitlement and
system unchanged), be one of that decider's rows, hold a known decision, a comment with
a revoke or modify, and be the only decision on its item. All problems are reported
together with file:row, and then nothing is written.

When everything is in order, one change is made, all or nothing (temporary names, then
renamed; the review YAML last): the items file beside the review (every item of the
population, undecided ones with empty decision cells, so EVD-1 finds them), each returned
file kept byte for byte under ``evidence/reviews/<REVIEW>/returned/``, and the review's
``items_file:`` and ``attachments:`` with their sha256.

``decided_by`` is the worksheet's decider. ``decided_at`` is the time of the collection
(``--at``, else now), the same for every item: the time a spreadsheet records can be set
by anyone who edits it, so it is not evidence of when a decision was made; when it was
received is.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ...catalog.loader import load_catalog
from ...diagnostics import did_you_mean, safe_cell
from ...errors import InputError
from ..catalogwrite import commit_files
from ..extractscan import norm
from .layout import COMMENT, DECISION, DECISIONS, ITEMS_COLUMNS, UNROUTED, checksum
from .reading import NotAWorksheet, Returned, read_returned
from .routing import Routed, Routing, route
from .yamledit import edit_review


class WorksheetProblems(InputError):
    """Returned worksheets with problems; ``problems`` holds one ``file:row: message`` each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the returned worksheets")
        self.problems = problems


@dataclass(frozen=True)
class Decided:
    decision: str
    decider: str
    comment: str
    where: str


@dataclass(frozen=True)
class Collected:
    """What collect recorded."""

    items_file: str
    decided: int
    undecided: int
    returned: tuple[str, ...]
    at: datetime
    ignored: tuple[str, ...]


def worksheet_files(dirs: list[Path]) -> tuple[list[Path], list[Path]]:
    """(worksheets, ignored): ``.xlsx`` and ``.csv`` files of the folders, in name order;
    ``_unrouted.csv``, hidden and temporary files are not returned worksheets."""
    found, ignored = [], []
    for folder in dirs:
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in (".xlsx", ".csv"):
                continue
            if path.name == UNROUTED or path.name.startswith((".", "~$")):
                ignored.append(path)
            else:
                found.append(path)
    if not found:
        raise InputError(f"no worksheets (.xlsx or .csv) in {', '.join(map(str, dirs))}")
    return found, ignored


def _changed(row: dict[str, str], issued: Routed) -> str:
    item = issued.item
    was = {"system": item.system, "account": item.account, "entitlement": item.entitlement}
    changes = [f"{k} {row[k]!r} (issued: {v!r})" for k, v in was.items() if row[k] != v]
    return ", ".join(changes) or "the row"


def _judge(
    routing: Routing, sheets: list[Returned]
) -> tuple[dict[tuple[str, str, str], Decided], list[str]]:
    review = routing.review
    by_key = {r.item.key: r for r in routing.rows}
    by_check = {r.item.check(review.id): r for r in routing.rows}
    decided: dict[tuple[str, str, str], Decided] = {}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for sheet in sheets:
        about = sheet.about
        if about["review"] != review.id:
            problems.append(
                f"{sheet.shown}: a worksheet of review {about['review']}, not {review.id}"
            )
            continue
        if about["extract_sha256"] != routing.extract_sha256:
            problems.append(
                f"{sheet.shown}: issued for an extract with sha256 {about['extract_sha256']}; "
                f"the review's extract {routing.extract_file} has {routing.extract_sha256}"
            )
            continue
        decider = about["decider"]
        if decider not in routing.deciders:
            problems.append(
                f"{sheet.shown}: no worksheet of {review.id} was issued to {decider!r} "
                f"(issued to: {', '.join(routing.deciders)}){did_you_mean(decider, routing.deciders)}"
            )
            continue
        if decider in seen:
            problems.append(
                f"{sheet.shown}: a second worksheet of {decider} (the first: {seen[decider]})"
            )
            continue
        seen[decider] = sheet.shown
        for row in sheet.rows:
            where, values = f"{sheet.shown}:{row.line}", row.values
            what = f"{values['account']} ({values['entitlement']})"
            mine = checksum(review.id, values["system"], values["account"], values["entitlement"])
            if values["check"] != mine:
                issued = by_check.get(values["check"])
                problems.append(
                    f"{where}: changed after it was issued: {_changed(values, issued)}"
                    if issued is not None
                    else f"{where}: {what} does not match its check {values['check']!r}: "
                    "a row added, or its check edited"
                )
                continue
            key = (norm(values["system"]), norm(values["account"]), norm(values["entitlement"]))
            routed = by_key.get(key)
            if routed is None:
                problems.append(f"{where}: {what} is not in the population of {review.id}")
                continue
            if routed.decider != decider:
                owner = f"{routed.decider}'s" if routed.decider else "no one's (unrouted)"
                problems.append(f"{where}: {what} is a row of {owner} worksheet, not {decider}'s")
                continue
            raw, comment = values[DECISION], values[COMMENT]
            if not raw:
                continue  # undecided: EVD-1 will say so
            decision = norm(raw)
            if decision not in DECISIONS:
                problems.append(
                    f"{where}: unknown decision {raw!r} (keep, revoke or modify)"
                    f"{did_you_mean(decision, DECISIONS)}"
                )
                continue
            if decision != "keep" and not comment:
                problems.append(
                    f"{where}: {decision} {what} needs a comment: what to remove or change, and why"
                )
                continue
            if key in decided:
                problems.append(
                    f"{where}: a second decision on {what}; the first is at {decided[key].where}"
                )
                continue
            decided[key] = Decided(decision, decider, comment, where)
    return decided, problems


def items_csv(routing: Routing, decided: dict[tuple[str, str, str], Decided], at: str) -> bytes:
    """Every item of the population in the items file layout (undecided ones left empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEMS_COLUMNS)
    for routed in sorted(
        routing.rows, key=lambda r: (r.item.system, r.item.account, r.item.entitlement)
    ):
        item = routed.item
        made = decided.get(item.key)
        values = {
            "account": item.account,
            "system": item.system if routing.shared else "",
            "entitlement": item.entitlement,
            "decision": made.decision if made else "",
            "decided_by": made.decider if made else "",
            "decided_at": at if made else "",
            "comment": safe_cell(made.comment) if made else "",
        }
        writer.writerow([values.get(column, "") for column in ITEMS_COLUMNS])
    return out.getvalue().encode("utf-8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def collect(root: Path, review_id: str, dirs: list[Path], at: datetime | None) -> Collected:
    """Validate the returned worksheets and record them (see the module docstring)."""
    catalog = load_catalog(root)
    routing = route(catalog, review_id)
    review = routing.review
    if review.items and getattr(review, "items_file", None) is None:
        raise InputError(
            f"{review.loc('items')}: review {review.id} already records {len(review.items)} "
            "item(s) in its YAML; collect records decisions as items_file: (remove items: first)"
        )
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    paths, ignored = worksheet_files(dirs)
    problems, sheets = [], []
    names: dict[str, Path] = {}
    for path in paths:
        if path.name in names:
            problems.append(
                f"{path}: a second file named {path.name} (the first: {names[path.name]})"
            )
            continue
        names[path.name] = path
        try:
            sheets.append(read_returned(path, str(path)))
        except NotAWorksheet as exc:
            problems.append(f"{path}: {exc}")
    decided, found = _judge(routing, sheets)
    problems.extend(found)
    review_file = next(f for f in catalog.files if catalog.display_path(f) == review.source_file)
    folder = f"evidence/reviews/{review.id}/returned"
    writes: list[tuple[str, bytes]] = []
    attachments = []
    for sheet in sheets:
        data = sheet.path.read_bytes()
        rel = f"{folder}/{sheet.path.name}"
        target = catalog.resolve(rel)
        if target is not None and target.exists() and target.read_bytes() != data:
            problems.append(
                f"{sheet.shown}: {catalog.display_path(rel)} already holds another returned file; "
                "rename this one (e.g. add -round2) and collect again"
            )
            continue
        writes.append((rel, data))
        attachments.append(
            {
                "file": rel,
                "sha256": _sha(data),
                "description": f"worksheet of {sheet.about['decider']} returned for "
                f"{review.id}, collected {stamp}",
            }
        )
    undecided = len(routing.rows) - len(decided)
    if review.sign_off is not None and undecided and not problems:
        problems.append(
            f"{review.loc('sign_off')}: review {review.id} is signed off but {undecided} "
            "item(s) would stay undecided; collect their worksheets, or remove sign_off: "
            "until the review is complete"
        )
    if problems:
        raise WorksheetProblems(problems)
    items = items_csv(routing, decided, stamp)
    items_rel = (
        review_file.rsplit("/", 1)[0] + f"/{review.id}.items.csv"
        if "/" in review_file
        else f"{review.id}.items.csv"
    )
    old = (root / review_file).read_bytes()
    text = edit_review(
        old.decode("utf-8-sig"),
        review.source_file,
        {"file": items_rel, "sha256": _sha(items)},
        attachments,
    )
    bom = "\ufeff".encode() if old.startswith(b"\xef\xbb\xbf") else b""
    writes.append((items_rel, items))
    writes.append((review_file, bom + text.encode("utf-8")))
    commit_files(root, writes, (review_file, old))
    return Collected(
        items_file=items_rel,
        decided=len(decided),
        undecided=undecided,
        returned=tuple(rel for rel, _ in writes[:-2]),
        at=moment,
        ignored=tuple(str(p) for p in ignored),
    )
