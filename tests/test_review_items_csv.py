"""A review's decisions in a CSV file beside it (``items_file:``): loaded columnar into the
same ``ReviewItem`` records as ``items:``, every cell validated with file:line:column, the
file's hash checked by EVD-2, and sign-off refused while a decision is incomplete.

Columns are counted as a spreadsheet counts them: ``:3:4`` is row line 3, fourth field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog import itemscsv
from generator.catalog.itemscsv import LINE_LIMIT
from generator.evaluation.evaluate import evaluate
from generator.model.reviews import ITEMS_COLUMNS, Decision
from tests.conftest import CatalogDir

REVIEW = "reviews/UAR-APP-01-2026Q1.yaml"
ITEMS = "reviews/UAR-APP-01-2026Q1.items.csv"
HEADER = ",".join(ITEMS_COLUMNS)
ROWS = (
    "mnovak,,,keep,j.okafor,2026-04-10T09:12:00Z,Read-only access for IAM to reconcile "
    "accounts.,,\n"
    "skim,,,keep,j.okafor,2026-04-10T09:20:00Z,,,\n"
)
SIGN_OFF = "sign_off:\n  by: j.okafor\n  at: 2026-04-14T16:00:00Z\n"


@pytest.fixture(autouse=True, params=["duckdb", "python-csv"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with both readers: DuckDB (large files) and Python's ``csv`` (small
    ones, and any file DuckDB may not read exactly); they must agree to the cell."""
    threshold = 0 if request.param == "duckdb" else 1 << 40
    monkeypatch.setattr(itemscsv, "DUCKDB_FROM_BYTES", threshold)
    return str(request.param)


def test_duckdb_reads_a_plain_file_and_a_quoted_multi_line_one(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text(f"{HEADER}\n{ROWS}", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text(f'{HEADER}\nmnovak,,,keep,j.okafor,,"a,\nb",,\n{ROWS}', encoding="utf-8")
    rows, lines = itemscsv._duckdb_rows(plain, plain.read_text(), 9) or ([], [])
    assert (len(rows), list(lines)) == (2, [2, 3])
    rows, lines = itemscsv._duckdb_rows(quoted, quoted.read_text(), 9) or ([], [])
    assert (len(rows), list(lines)) == (3, [2, 4, 5])
    assert rows[0][6] == "a,\nb"


def as_csv(
    starter: CatalogDir, text: str, *, signed: bool = True, raw: bytes | None = None
) -> None:
    """Move the starter review's items to ``ITEMS`` holding ``text`` (or ``raw`` bytes)."""
    data = raw if raw is not None else text.encode("utf-8")
    (starter.path / ITEMS).write_bytes(data)
    review = (starter.path / REVIEW).read_text(encoding="utf-8")
    start, end = review.index("items:"), review.index("sign_off:")
    pointer = f'items_file:\n  file: {ITEMS}\n  sha256: "{hashlib.sha256(data).hexdigest()}"\n'
    rest = review[end:] if signed else ""
    (starter.path / REVIEW).write_text(review[:start] + pointer + rest, encoding="utf-8")


def findings(starter: CatalogDir, rule: str) -> list[tuple[str, str]]:
    evaluation = evaluate(starter.load())
    prefix = starter.path.as_posix() + "/"
    return [
        (str(f.location).removeprefix(prefix), f.message) for f in evaluation.open if f.rule == rule
    ]


def controlbook(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "generator", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


# Loading


def test_items_in_a_csv_are_the_same_records_as_the_same_items_in_yaml(
    starter: CatalogDir,
) -> None:
    yaml_items = starter.load().reviews["UAR-APP-01-2026Q1"].items
    as_csv(starter, f"{HEADER}\n{ROWS}")
    csv_items = starter.load().reviews["UAR-APP-01-2026Q1"].items
    assert csv_items == yaml_items
    assert csv_items[0].decision is Decision.KEEP
    assert csv_items[1].comment is None  # an empty cell is a value not given


def test_each_item_points_at_its_row_and_field_in_the_csv(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    mnovak, skim = starter.load().reviews["UAR-APP-01-2026Q1"].items
    file = f"{starter.path.as_posix()}/{ITEMS}"
    assert str(skim.loc("decision")) == f"{file}:3:4"
    assert str(mnovak.loc("decided_by")) == f"{file}:2:5"
    assert str(mnovak.loc()) == f"{file}:2:1"


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out(
    starter: CatalogDir,
) -> None:
    text = (
        "decided_at,decision,account,decided_by,remediation_ticket\n"
        "2026-04-10T09:12:00Z,keep,mnovak,j.okafor,\n"
        "2026-04-10T09:20:00Z,revoke,skim,j.okafor,CHG-1042\n"
    )
    as_csv(starter, text)
    mnovak, skim = starter.load().reviews["UAR-APP-01-2026Q1"].items
    assert skim.remediation is not None
    assert skim.remediation.ticket == "CHG-1042"
    assert mnovak.remediation is None
    assert str(skim.loc("decision")).endswith(f"{ITEMS}:3:2")
    assert str(skim.remediation.loc("ticket")).endswith(f"{ITEMS}:3:5")


def test_a_multi_line_quoted_comment_keeps_the_lines_of_the_rows_after_it(
    starter: CatalogDir,
) -> None:
    text = (
        f"{HEADER}\r\n"
        'mnovak,,,keep,j.okafor,2026-04-10T09:12:00Z,"Read-only, for IAM;\r\nsee RITM0042",,\r\n'
        "skim,,,kep,j.okafor,2026-04-10T09:20:00Z,,,\r\n"
    )
    as_csv(starter, text)
    problems = starter.problems()
    assert problems == [
        f"{ITEMS}:4:4: error: decision: unknown decision 'kep'; did you mean 'keep'? "
        "(one of: keep, revoke, modify)"
    ]


def test_the_column_order_writers_use_is_one_constant() -> None:
    assert ITEMS_COLUMNS == (
        "account",
        "system",
        "entitlement",
        "decision",
        "decided_by",
        "decided_at",
        "comment",
        "remediation_ticket",
        "remediation_completed",
    )


# Validation: every cell, with file:line:column


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "skim,,,kepp,j.okafor,2026-04-10T09:20:00Z,,,",
            f"{ITEMS}:3:4: error: decision: unknown decision 'kepp'; did you mean 'keep'? "
            "(one of: keep, revoke, modify)",
        ),
        (
            "skim,,,keep,j.okafor,10/04/2026,,,",
            f"{ITEMS}:3:6: error: decided_at: '10/04/2026' is not a date and time "
            "(write YYYY-MM-DDTHH:MM:SSZ)",
        ),
        (
            "skim,,,keep,j.okafr,2026-04-10T09:20:00Z,,,",
            f"{ITEMS}:3:5: error: decided_by: unknown person 'j.okafr'; did you mean 'j.okafor'?",
        ),
        (
            "skim,,,revoke,j.okafor,2026-04-10T09:20:00Z,,CHG-1,2026-02-30",
            f"{ITEMS}:3:9: error: remediation_completed: '2026-02-30' is not a date "
            "(write YYYY-MM-DD)",
        ),
        (
            ",,,keep,j.okafor,2026-04-10T09:20:00Z,,,",
            f"{ITEMS}:3:1: error: account: no account: every row names the account decided on",
        ),
        (
            "skim,,,keep,j.okafor",
            f"{ITEMS}:3:1: error: expected 9 fields (as the header), got 5",
        ),
    ],
    ids=["decision", "date", "person", "completed", "account", "fields"],
)
def test_a_bad_cell_is_an_error_at_its_line_and_field(
    starter: CatalogDir, row: str, expected: str
) -> None:
    first = ROWS.splitlines()[0]
    as_csv(starter, f"{HEADER}\n{first}\n{row}\n")
    assert starter.problems() == [expected]


def test_a_good_row_next_to_a_bad_one_raises_nothing_more(starter: CatalogDir) -> None:
    """Near miss: the valid rows load; only the bad cell is reported."""
    as_csv(starter, f"{HEADER}\n{ROWS}")
    assert starter.problems() == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            HEADER.replace("decided_by", "decidedby"),
            f"{ITEMS}:1:1: error: missing column(s) decided_by; an empty cell says 'not given'\n"
            f"{ITEMS}:1:5: error: unknown column 'decidedby'; did you mean 'decided_by'?",
        ),
        (
            HEADER + ",comment",
            f"{ITEMS}:1:10: error: column 'comment' appears twice (first as column 7)",
        ),
        (
            HEADER.replace(",decided_at", ""),
            f"{ITEMS}:1:1: error: missing column(s) decided_at; an empty cell says 'not given'",
        ),
    ],
    ids=["unknown", "duplicated", "missing"],
)
def test_a_bad_header_is_an_error_on_line_one(
    starter: CatalogDir, header: str, expected: str
) -> None:
    as_csv(starter, f"{header}\n")
    assert [p.split(" (columns:")[0] for p in starter.problems()] == expected.split("\n")


def test_items_and_items_file_together_are_an_error_at_the_key(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    starter.replace(REVIEW, "items_file:", "items: []\nitems_file:")
    assert starter.problems() == [
        f"{REVIEW}:20:1: error: items_file: a review has 'items:' or 'items_file:', not both"
    ]


# What the rules report, and where


def test_evd1_on_an_open_review_points_at_the_csv_row(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\nmnovak,,,keep,j.okafor,,,,\nskim,,,,,,,,\n", signed=False)
    assert starter.problems() == []  # not signed off: gaps are findings, not errors
    assert findings(starter, "EVD-1") == [
        (f"{ITEMS}:2:1", "review UAR-APP-01-2026Q1, account 'mnovak': no decided_at"),
        (
            f"{ITEMS}:3:1",
            "review UAR-APP-01-2026Q1, account 'skim': no decision, decided_by, decided_at",
        ),
    ]


def test_sod1_self_review_points_at_the_decided_by_cell(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS.replace('skim,,,keep,j.okafor', 'skim,,,keep,s.kim')}")
    found = findings(starter, "SOD-1")
    assert [where for where, _ in found] == [f"{ITEMS}:3:5"]
    assert "'s.kim' decided on their own account 'skim'" in found[0][1]


def test_sarif_and_json_reports_show_the_csv_line(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\nmnovak,,,keep,j.okafor,,,,\n{ROWS.splitlines()[1]}\n", signed=False)
    sarif = json.loads(controlbook("check", str(starter.path), "--format", "sarif").stdout)
    places = [
        (
            r["ruleId"],
            loc["physicalLocation"]["artifactLocation"]["uri"],
            loc["physicalLocation"]["region"]["startLine"],
        )
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
        if r["ruleId"] == "EVD-1"
    ]
    assert [(rule, uri.endswith(ITEMS), line) for rule, uri, line in places] == [("EVD-1", True, 2)]
    report = json.loads(controlbook("check", str(starter.path), "--format", "json").stdout)
    evd1 = [f["location"] for f in report["findings"] if f["rule"] == "EVD-1"]
    assert [(loc["file"].endswith(ITEMS), loc["line"]) for loc in evd1] == [(True, 2)]


def test_evd2_reports_an_items_file_changed_after_sign_off(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    with (starter.path / ITEMS).open("a", encoding="utf-8") as handle:
        handle.write("jdoe,,,keep,j.okafor,2026-04-10T09:30:00Z,,,\n")
    ((where, message),) = findings(starter, "EVD-2")
    assert where == f"{REVIEW}:20:9"
    assert message.startswith(f"{ITEMS} has changed since it was recorded")


def test_evd2_reports_a_missing_items_file_instead_of_crashing(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    (starter.path / ITEMS).unlink()
    assert findings(starter, "EVD-2") == [(f"{REVIEW}:20:9", f"evidence file {ITEMS} is missing")]


def test_evd2_is_quiet_when_the_items_file_is_as_signed_off(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    assert findings(starter, "EVD-2") == []


# Sign-off is refused while a decision is incomplete (policy as code)


def test_a_signed_off_review_with_an_undated_decision_does_not_validate(
    starter: CatalogDir,
) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS.replace('2026-04-10T09:20:00Z', '')}")
    assert starter.problems() == [
        f"{ITEMS}:3:6: error: sign_off: review 'UAR-APP-01-2026Q1' is signed off, but the "
        "decision on account 'skim' has no decided_at"
    ]


def test_a_signed_off_yaml_review_with_no_decision_does_not_validate(starter: CatalogDir) -> None:
    starter.replace(
        REVIEW,
        "    decision: keep\n    decided_by: j.okafor\n    decided_at: 2026-04-10T09:20:00Z\n",
        "",
    )
    assert starter.problems() == [
        f"{REVIEW}:25:5: error: sign_off: review 'UAR-APP-01-2026Q1' is signed off, but the "
        "decision on account 'skim' has no decision, decided_by, decided_at"
    ]


def test_a_signed_off_review_lists_ten_incomplete_decisions_and_counts_the_rest(
    starter: CatalogDir,
) -> None:
    rows = "".join(f"acct{n},,,keep,j.okafor,,,,\n" for n in range(13))
    as_csv(starter, f"{HEADER}\n{rows}")
    problems = starter.problems()
    assert len(problems) == 11
    assert problems[0].startswith(f"{ITEMS}:2:6: error: sign_off:")
    assert problems[9].startswith(f"{ITEMS}:11:6: error: sign_off:")
    assert problems[10] == (
        f"{REVIEW}:23:3: error: sign_off: review 'UAR-APP-01-2026Q1' is signed off with 13 "
        "incomplete decisions (the first 10 are listed; 3 more): complete them, or remove "
        "sign_off until the review is complete"
    )


def test_a_signed_off_complete_review_validates(starter: CatalogDir) -> None:
    """Near miss: complete decisions; a revoke without its ticket stays an EVD-1 finding."""
    rows = ROWS.replace(
        "skim,,,keep,j.okafor,2026-04-10T09:20:00Z,,,",
        "skim,,,revoke,j.okafor,2026-04-10T09:20:00Z,,,2026-04-12",
    )
    as_csv(starter, f"{HEADER}\n{rows}")
    assert starter.problems() == []
    assert findings(starter, "EVD-1") == [
        (f"{ITEMS}:3:1", "review UAR-APP-01-2026Q1, account 'skim': no remediation ticket")
    ]


# Hostile files


def test_a_formula_looking_cell_is_kept_as_text_and_neutralised_in_the_csv_report(
    starter: CatalogDir,
) -> None:
    formula = '=HYPERLINK("https://attacker.example/x","click")'
    cell = '"' + formula.replace('"', '""') + '"'
    as_csv(starter, f"{HEADER}\n{cell},,,keep,j.okafor,,,,\n{ROWS.splitlines()[1]}\n", signed=False)
    (item, _) = starter.load().reviews["UAR-APP-01-2026Q1"].items
    assert item.account == formula
    result = controlbook("check", str(starter.path), "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    cells = [c for row in rows for c in row if "HYPERLINK" in c]
    assert cells, result.stdout
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)


def test_a_nul_byte_is_an_error_at_its_position(starter: CatalogDir) -> None:
    as_csv(starter, "", raw=f"{HEADER}\nmno\0vak,,,keep,j.okafor,,,,\n".encode())
    assert starter.problems() == [f"{ITEMS}:2:4: error: a NUL byte: this is not a text CSV file"]


def test_a_file_that_is_not_utf8_is_an_error_at_the_byte(starter: CatalogDir) -> None:
    as_csv(starter, "", raw=f"{HEADER}\nm\xfcller,,,keep,j.okafor,,,,\n".encode("latin-1"))
    assert starter.problems() == [
        f"{ITEMS}:2:2: error: the items file is not UTF-8 text (save it as CSV UTF-8)"
    ]


def test_a_huge_line_is_refused_with_its_line(starter: CatalogDir) -> None:
    comment = "x" * (LINE_LIMIT + 10)
    as_csv(starter, f"{HEADER}\n{ROWS}skim,,,keep,j.okafor,,{comment},,\n")
    assert starter.problems() == [
        f"{ITEMS}:4:1: error: line longer than 131,072 characters; an item is one short row"
    ]


def test_an_invisible_character_in_a_person_is_an_error(starter: CatalogDir) -> None:
    hidden = ROWS.replace("skim,,,keep,j.okafor", "skim,,,keep,j.oka\u200bfor")
    as_csv(starter, f"{HEADER}\n{hidden}")
    assert starter.problems() == [
        f"{ITEMS}:3:5: error: decided_by: decided_by 'j.oka\\u200bfor' holds ZERO WIDTH SPACE, "
        "which shows as nothing or reorders the text around it (retype it)"
    ]


def test_an_items_file_linked_outside_the_catalog_is_not_read(
    starter: CatalogDir, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(f"{HEADER}\n{ROWS}", encoding="utf-8")
    as_csv(starter, f"{HEADER}\n{ROWS}")
    (starter.path / ITEMS).unlink()
    os.symlink(outside, starter.path / ITEMS)
    assert starter.problems() == [
        f"{REVIEW}:20:9: error: items_file.file: items file {ITEMS}: is a link to a file "
        "outside the catalog folder; it is not read"
    ]


def test_an_items_file_path_with_dotdot_is_refused(starter: CatalogDir) -> None:
    as_csv(starter, f"{HEADER}\n{ROWS}")
    starter.replace(REVIEW, f"file: {ITEMS}", "file: ../outside.csv")
    assert starter.problems() == [
        f"{REVIEW}:20:9: error: items_file.file: path '../outside.csv' must be relative to "
        "the catalog folder, without '..'"
    ]


def test_validate_on_the_command_line_gives_a_one_line_message_and_exit_2(
    starter: CatalogDir,
) -> None:
    as_csv(
        starter,
        f"{HEADER}\n{ROWS.replace('keep,j.okafor,2026-04-10T09:20', 'kep,j.okafor,2026-04-10T09:20')}",
    )
    result = controlbook("validate", str(starter.path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{ITEMS}:3:4: error: decision: unknown decision 'kep'" in result.stdout + result.stderr
