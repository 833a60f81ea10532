"""``controlbook review worksheets`` and ``review collect`` on a copy of the example catalog.

The review UAR-FINDB-2026Q2 (approval rule: the holder's manager) is made a review to be
started (its items, completion and sign-off removed). Its eight items go to four
managers; three fill their worksheets with openpyxl, as a user's spreadsheet would, one
of them wrongly at first; the fourth never returns hers.

The XLSX layout follows openpyxl's documented sheet protection and cell protection
(https://openpyxl.readthedocs.io/en/stable/api/openpyxl.worksheet.protection.html,
https://openpyxl.readthedocs.io/en/stable/api/openpyxl.styles.protection.html); the
LibreOffice check converts with the CSV filter options of
https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html.
"""

from __future__ import annotations

import csv
import difflib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from generator.catalog.loader import load_catalog
from generator.cli import main
from generator.errors import InputError
from generator.evaluation.evaluate import evaluate
from generator.evaluation.rules.context import Context
from generator.evaluation.rules.sod import authorised_deciders
from generator.evidence.extracts import ExtractStore
from generator.evidence.worksheets.layout import checksum
from generator.evidence.worksheets.routing import route
from generator.evidence.worksheets.yamledit import edit_review
from tests.conftest import EXAMPLE

REVIEW = "UAR-FINDB-2026Q2"
REVIEW_FILE = "reviews/2026-Q2/UAR-FINDB-2026Q2.yaml"
AT = "2026-07-09T16:00:00Z"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _strip_top_key(text: str, key: str) -> str:
    """The review YAML without one top-level key and its block."""
    return re.sub(rf"(?m)^{key}:.*\n(?:[ #].*\n|\n)*", "", text)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    review = target / REVIEW_FILE
    text = review.read_text(encoding="utf-8")
    for key in ("items", "completed", "sign_off"):
        text = _strip_top_key(text, key)
    review.write_text(text, encoding="utf-8")
    return target


def issue(catalog: Path, out: Path, *extra: str) -> Result:
    result = run("review", "worksheets", REVIEW, "--catalog", catalog, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return result


def fill(path: Path, rows: dict[int, tuple[str, str]], edits: dict[str, str] | None = None) -> None:
    """Type decisions (row -> decision, comment) into a worksheet, as a user would."""
    book = load_workbook(path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    for row, (decision, comment) in rows.items():
        sheet.cell(row=row, column=header.index("decision") + 1, value=decision or None)
        sheet.cell(row=row, column=header.index("comment") + 1, value=comment or None)
    for ref, value in (edits or {}).items():
        sheet[ref] = value
    book.save(path)


def copy_row(source: Path, row: int, target: Path, to_row: int) -> None:
    """Paste a row of one worksheet into another (its protection removed first)."""
    values = [c.value for c in load_workbook(source)["Review"][row]]
    book = load_workbook(target)
    sheet = book["Review"]
    sheet.protection.sheet = False
    for column, value in enumerate(values, start=1):
        sheet.cell(row=to_row, column=column, value=value)
    book.save(target)


def rows_of(path: Path) -> list[dict[str, str]]:
    sheet = load_workbook(path)["Review"]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]  # type: ignore[arg-type]


# --- routing ---------------------------------------------------------------------------


def test_each_item_goes_to_the_holders_manager(catalog: Path, tmp_path: Path) -> None:
    result = issue(catalog, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        f"{REVIEW}-{d}.xlsx" for d in ("e.hartley", "j.whitaker", "m.okafor", "r.patel")
    ]
    assert (
        "8 item(s) of UAR-FINDB-2026Q2 routed to 4 decider(s) by the approval rule (manager)"
        in result.output
    )
    rows = rows_of(tmp_path / "out" / f"{REVIEW}-r.patel.xlsx")
    assert [(r["account"], r["entitlement"], r["person"], r["routed"]) for r in rows] == [
        ("AMOREAU", "FIN_REPORT_READ", "a.moreau", "manager of a.moreau"),
        ("TBROOKS", "FIN_CONSOL_ADJUST", "t.brooks", "manager of t.brooks"),
        ("TBROOKS", "FIN_REPORT_READ", "t.brooks", "manager of t.brooks"),
    ]
    assert rows[0]["department"] == "Finance - Accounting"
    assert rows[0]["source"] == "extracts/findb/2026-06-30.csv:2"
    assert rows[0]["check"] == checksum(REVIEW, "findb", "AMOREAU", "FIN_REPORT_READ")


def test_every_routed_decider_of_the_example_is_one_the_approval_rule_accepts() -> None:
    """Routing and REV-1 read the approval rule the same way (rerouted items excepted)."""
    loaded = load_catalog(EXAMPLE)
    ctx = Context(loaded, evaluate(loaded).as_of, ExtractStore(loaded))
    checked = 0
    for review in loaded.reviews.values():
        for routed in route(loaded, review.id).rows:
            if routed.decider is None or "instead" in routed.why:
                continue
            item = type(review.items[0])(account=routed.item.account, system=routed.item.system)
            deciders = authorised_deciders(ctx, review)
            allowed = deciders(item, ctx.item_key(review, item)) if deciders else frozenset()
            assert routed.decider in allowed, routed
            checked += 1
    assert checked > 100


def test_an_item_whose_router_holds_the_account_goes_to_the_holders_manager(
    catalog: Path, tmp_path: Path
) -> None:
    control = catalog / "controls" / "ITGC-UAR-FINDB.yaml"
    control.write_text(control.read_text().replace("approver: manager", "approver: system-owner"))
    result = issue(catalog, tmp_path / "out")  # findb's owner is r.patel, who holds RPATEL
    assert (
        "rerouted: RPATEL (FIN_REPORT_READ): system owner r.patel holds this account: "
        "routed to the holder's manager instead" in result.output
    )
    moved = rows_of(tmp_path / "out" / f"{REVIEW}-j.whitaker.xlsx")
    assert [r["account"] for r in moved] == ["RPATEL"]
    assert "RPATEL" not in [
        r["account"] for r in rows_of(tmp_path / "out" / f"{REVIEW}-r.patel.xlsx")
    ]


def test_items_nobody_can_decide_are_listed_and_written_to_unrouted(
    catalog: Path, tmp_path: Path
) -> None:
    people = catalog / "people.yaml"
    people.write_text(people.read_text().replace("    manager: j.whitaker\n", "", 1))  # r.patel
    control = catalog / "controls" / "ITGC-UAR-FINDB.yaml"
    text = control.read_text()
    control.write_text(re.sub(r"(?m)^  application_owner: .*\n", "", text))
    result = issue(catalog, tmp_path / "out")
    assert "1 item(s) have no decider" in result.output
    assert "RPATEL (FIN_REPORT_READ): the approval rule (manager) names nobody" in result.output
    with (tmp_path / "out" / "_unrouted.csv").open() as handle:
        listed = list(csv.DictReader(handle))
    assert [(r["account"], r["person"], r["source"]) for r in listed] == [
        ("RPATEL", "r.patel", "extracts/findb/2026-06-30.csv:11")
    ]


def test_a_review_without_an_extract_gets_no_worksheets(catalog: Path, tmp_path: Path) -> None:
    review = catalog / REVIEW_FILE
    review.write_text(_strip_top_key(review.read_text(), "evidence"))
    result = run("review", "worksheets", REVIEW, "--catalog", catalog, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "review UAR-FINDB-2026Q2 records no population extract" in result.output
    assert not (tmp_path / "o").exists()
    wrong = run("review", "worksheets", "UAR-FINDB-2026Q3", "--catalog", catalog, "--out", tmp_path)
    assert (
        "no review 'UAR-FINDB-2026Q3' in the catalog; did you mean 'UAR-FINDB-2026Q2'?"
        in wrong.output
    )


# --- the workbook ----------------------------------------------------------------------


def test_only_the_decision_and_comment_cells_can_be_edited(catalog: Path, tmp_path: Path) -> None:
    issue(catalog, tmp_path / "out")
    book = load_workbook(tmp_path / "out" / f"{REVIEW}-r.patel.xlsx")
    sheet = book["Review"]
    assert sheet.protection.sheet
    header = [c.value for c in sheet[1]]
    unlocked = {
        header[c.column - 1]
        for row in sheet.iter_rows(min_row=2)
        for c in row
        if not c.protection.locked
    }
    assert unlocked == {"decision", "comment"}
    (listed,) = sheet.data_validations.dataValidation
    assert listed.formula1 == '"keep,revoke,modify"'
    assert str(listed.sqref) == "L2:L4"
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["review"] == REVIEW
    assert about["decider"] == "r.patel"
    assert (
        about["extract_sha256"]
        == "3d6f7d0581e6ddb414bbaf3822bd7bc9ae7b3e7da37b4a682d0ebdaf75938688"
    )
    assert book.properties.title == f"Access review {REVIEW}: worksheet of r.patel"


def test_the_same_review_gives_the_same_bytes(catalog: Path, tmp_path: Path) -> None:
    issue(catalog, tmp_path / "a")
    issue(catalog, tmp_path / "b")
    for fmt in ("xlsx", "csv"):
        issue(catalog, tmp_path / f"c-{fmt}", "--format", fmt)
    first = sorted((tmp_path / "a").iterdir())
    assert [p.read_bytes() for p in first] == [
        (tmp_path / "b" / p.name).read_bytes() for p in first
    ]
    with zipfile.ZipFile(first[0]) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2026-06-30T22:00:00Z" in core  # the extraction time, not the time it was run
    text = (tmp_path / "c-csv" / f"{REVIEW}-r.patel.csv").read_text()
    assert text.startswith(f"# review: {REVIEW}\n# decider: r.patel\n")


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_opens_the_worksheet_and_reads_its_rows(catalog: Path, tmp_path: Path) -> None:
    issue(catalog, tmp_path / "out")
    source = tmp_path / "out" / f"{REVIEW}-r.patel.xlsx"
    converted = tmp_path / "lo"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(converted),
         str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    with (converted / source.with_suffix(".csv").name).open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["system", "account", "person"]
    assert [(r[1], r[7]) for r in rows[1:]] == [
        ("AMOREAU", "FIN_REPORT_READ"), ("TBROOKS", "FIN_CONSOL_ADJUST"), ("TBROOKS", "FIN_REPORT_READ"),
    ]  # fmt: skip


# --- collecting ------------------------------------------------------------------------


def test_a_round_trip_records_the_decisions_and_check_finds_what_is_missing(
    catalog: Path, tmp_path: Path
) -> None:
    out, back = tmp_path / "out", tmp_path / "returned"
    issue(catalog, out)
    back.mkdir()
    for decider in ("e.hartley", "m.okafor", "r.patel"):
        shutil.copy(out / f"{REVIEW}-{decider}.xlsx", back)
    sheet = back / f"{REVIEW}-r.patel.xlsx"
    fill(back / f"{REVIEW}-e.hartley.xlsx", {2: ("keep", "")})
    fill(back / f"{REVIEW}-m.okafor.xlsx", {2: ("keep", ""), 3: ("keep", ""), 4: ("keep", "")})
    copy_row(back / f"{REVIEW}-m.okafor.xlsx", 2, sheet, 5)  # GFISCHER, m.okafor's
    fill(sheet, {2: ("kepp", ""), 3: ("revoke", ""), 4: ("keep", "")}, {"B4": "TBROOKS2"})
    before = (catalog / REVIEW_FILE).read_bytes()

    refused = run("review", "collect", REVIEW, back, "--catalog", catalog, "--at", AT)

    assert refused.exit_code == 2
    shown = str(sheet)
    assert refused.output.splitlines()[:4] == [
        f"{shown}:2: unknown decision 'kepp' (keep, revoke or modify); did you mean 'keep'?",
        f"{shown}:3: revoke TBROOKS (FIN_CONSOL_ADJUST) needs a comment: what to remove or change, and why",
        f"{shown}:4: changed after it was issued: account 'TBROOKS2' (issued: 'TBROOKS')",
        f"{shown}:5: GFISCHER (FIN_REPORT_READ) is a row of m.okafor's worksheet, not r.patel's",
    ]
    assert "4 problem(s) in the returned worksheets; nothing was written" in refused.output
    assert (catalog / REVIEW_FILE).read_bytes() == before
    assert not (catalog / "evidence" / "reviews").exists()

    shutil.copy(out / f"{REVIEW}-r.patel.xlsx", sheet)  # a fresh copy, filled in properly
    fill(sheet, {2: ("keep", ""), 3: ("revoke", "consolidation is Rohan's duty"), 4: ("Keep", "")})
    done = run("review", "collect", REVIEW, back, "--catalog", catalog, "--at", AT)

    assert done.exit_code == 0, done.output
    assert "7 item(s) decided, 1 undecided (EVD-1 reports them)" in done.output
    items = (catalog / "reviews/2026-Q2/UAR-FINDB-2026Q2.items.csv").read_text()
    assert items.splitlines() == [
        "account,system,entitlement,decision,decided_by,decided_at,comment,remediation_ticket,remediation_completed",
        f"AMOREAU,,FIN_REPORT_READ,keep,r.patel,{AT},,,",
        f"GFISCHER,,FIN_REPORT_READ,keep,m.okafor,{AT},,,",
        f"JWHITAKER,,FIN_REPORT_READ,keep,m.okafor,{AT},,,",
        f"KNAKAMURA,,AUDIT_READ,keep,e.hartley,{AT},,,",
        f"NADEYEMI,,FIN_REPORT_READ,keep,m.okafor,{AT},,,",
        "RPATEL,,FIN_REPORT_READ,,,,,,",
        f"TBROOKS,,FIN_CONSOL_ADJUST,revoke,r.patel,{AT},consolidation is Rohan's duty,,",
        f"TBROOKS,,FIN_REPORT_READ,keep,r.patel,{AT},,,",
    ]
    record = yaml.safe_load((catalog / REVIEW_FILE).read_text())
    assert record["items_file"]["file"] == "reviews/2026-Q2/UAR-FINDB-2026Q2.items.csv"
    kept = {a["file"]: a["sha256"] for a in record["attachments"]}
    for decider in ("e.hartley", "m.okafor", "r.patel"):
        rel = f"evidence/reviews/{REVIEW}/returned/{REVIEW}-{decider}.xlsx"
        assert (catalog / rel).read_bytes() == (back / f"{REVIEW}-{decider}.xlsx").read_bytes()
        assert rel in kept
    changes = difflib.SequenceMatcher(
        None, before.decode().splitlines(), (catalog / REVIEW_FILE).read_text().splitlines()
    ).get_opcodes()
    assert {tag for tag, *_ in changes} == {"equal", "insert"}  # comments and lines kept

    valid = run("validate", catalog)
    assert valid.exit_code == 0, valid.output
    found = {
        (f.rule, f.subject)
        for f in evaluate(load_catalog(catalog)).findings
        if f.subject.startswith(REVIEW)
    }
    assert ("EVD-1", f"{REVIEW}:RPATEL") in found  # never returned
    assert ("EVD-1", f"{REVIEW}:TBROOKS") in found  # a revoke with no remediation ticket yet
    assert not {rule for rule, _ in found} & {"SOD-1", "REV-1", "POP-3"}


def test_a_worksheet_of_someone_who_was_issued_none_is_refused(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    issue(catalog, out, "--format", "csv")
    back = tmp_path / "back"
    back.mkdir()
    text = (
        (out / f"{REVIEW}-r.patel.csv")
        .read_text()
        .replace("# decider: r.patel", "# decider: r.patell")
    )
    (back / "mine.csv").write_text(text)
    (back / "notes.csv").write_text("hello\n")
    refused = run("review", "collect", REVIEW, back, "--catalog", catalog)
    assert refused.exit_code == 2
    assert (
        f"{back / 'mine.csv'}: no worksheet of {REVIEW} was issued to 'r.patell' (issued to: e.hartley, j.whitaker, m.okafor, r.patel); did you mean 'r.patel'?"
        in refused.output
    )
    assert (
        f"{back / 'notes.csv'}: the worksheet does not say its review, decider, extract, extract_sha256"
        in refused.output
    )


def test_a_csv_worksheet_is_collected_like_a_workbook(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    issue(catalog, out, "--format", "csv")
    back = tmp_path / "back"
    back.mkdir()
    lines = (out / f"{REVIEW}-e.hartley.csv").read_text().splitlines()
    lines[-1] = lines[-1] + "keep,seen"  # the decision and comment cells were the last two
    lines[-1] = lines[-1].replace(",,keep,seen", ",keep,seen")
    (back / f"{REVIEW}-e.hartley.csv").write_text("\n".join(lines) + "\n")
    duplicate = back / "copy.csv"
    duplicate.write_text("\n".join(lines) + "\n")
    refused = run("review", "collect", REVIEW, back, "--catalog", catalog, "--at", AT)
    assert f"{duplicate}: a second worksheet of e.hartley" in refused.output
    duplicate.unlink()
    done = run("review", "collect", REVIEW, back, "--catalog", catalog, "--at", AT)
    assert done.exit_code == 0, done.output
    assert "1 item(s) decided, 7 undecided" in done.output
    assert (
        f"KNAKAMURA,,AUDIT_READ,keep,e.hartley,{AT},seen,,"
        in (catalog / "reviews/2026-Q2/UAR-FINDB-2026Q2.items.csv").read_text()
    )


def test_a_file_that_is_not_a_workbook_is_refused_with_its_name(
    catalog: Path, tmp_path: Path
) -> None:
    back = tmp_path / "back"
    back.mkdir()
    (back / f"{REVIEW}-r.patel.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    refused = run("review", "collect", REVIEW, back, "--catalog", catalog)
    assert refused.exit_code == 2
    assert (
        f"{back / (REVIEW + '-r.patel.xlsx')}: not an XLSX workbook (BadZipFile)" in refused.output
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run("review", "collect", REVIEW, empty, "--catalog", catalog)
    assert nothing.exit_code == 2
    assert "no worksheets (.xlsx or .csv) in" in nothing.output


def test_new_attachments_follow_the_existing_ones_and_comments_stay() -> None:
    text = (
        "kind: review  # keep me\n"
        "id: R\n"
        "evidence:\n"
        "  file: e.csv\n"
        "attachments:\n"
        "  - file: mail.eml  # sign-off mail\n"
        "    sha256: " + "a" * 64 + "\n"
        "retain_until: 2030-01-01\n"
    )
    new = edit_review(
        text,
        "r.yaml",
        {"file": "r.items.csv", "sha256": "1" * 64},
        [{"file": "evidence/x.xlsx", "sha256": "b" * 64, "description": "worksheet: of x"}],
    )
    assert new.splitlines() == [
        "kind: review  # keep me",
        "id: R",
        "evidence:",
        "  file: e.csv",
        "items_file:",
        "  file: r.items.csv",
        '  sha256: "' + "1" * 64 + '"',  # a number in YAML unless quoted
        "attachments:",
        "  - file: mail.eml  # sign-off mail",
        "    sha256: " + "a" * 64,
        "  - file: evidence/x.xlsx",
        "    sha256: " + "b" * 64,
        '    description: "worksheet: of x"',
        "retain_until: 2030-01-01",
    ]
    with pytest.raises(InputError, match="the last entry under attachments: is not written"):
        edit_review(
            text.replace(
                "attachments:\n  - file: mail.eml  # sign-off mail\n    sha256: " + "a" * 64,
                "attachments: [{file: m.eml}]",
            ),
            "r.yaml",
            {"file": "f", "sha256": "c" * 64},
            [{"file": "n", "sha256": "d" * 64}],
        )
