"""The second example catalog (examples/iga-catalog): reviews in an IGA tool, several extracts
per system. Its deliberate gaps are found exactly, it says exactly what it cannot judge, and
its near-misses are not reported.

`examples/iga-catalog/README.md` lists the same things for people. Each near-miss test also
edits a copy of the catalog to show that the shape it plants is what keeps the finding away
(an event report read as a snapshot, a slice read as the whole system...).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import Evaluation, evaluate
from tests.conftest import ROOT

IGA = ROOT / "examples" / "iga-catalog"
FULL_ERP = "extracts/erp/2026-06-30.csv"

# (rule, control, file relative to examples/iga-catalog/, line, status)
EXPECTED = {
    ("SOD-3", "SD-01", FULL_ERP, 14, "open"),
    ("EXC-3", "SD-02", "exceptions.yaml", 26, "open"),
    ("LVR-1", "AC-01", FULL_ERP, 15, "open"),
    ("ORP-1", "AC-03", "extracts/idp/2026-06-15.csv", 16, "open"),
    ("REM-1", "AC-01", "reviews/2026-Q1/AC-01-2026Q1.yaml", 32, "open"),
}

NOT_ASSESSED = [
    (
        "LVR-1",
        None,
        "LVR-1 not assessed on cloud for employee accounts of q.hale (left 2026-03-20), "
        "m.haddad (left 2026-05-29), i.moss (left 2026-06-26): no accounts extract of cloud "
        "covering them was taken after the leaving date.",
    ),
    (
        "LVR-1",
        "AC-03",
        "LVR-1 not assessed on idp for employee, privileged, third-party accounts of "
        "i.moss (left 2026-06-26): no accounts extract of idp covering them was taken after the "
        "leaving date.",
    ),
    (
        "SOD-3",
        "SD-01",
        "SoD rule set sod-payments on cloud (SOD-3, EXC-3) not assessed for those accounts: no "
        "accounts extract of cloud taken on or before 2026-07-31 shows its employee accounts.",
    ),
]


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(load_catalog(IGA))


def found(evaluation: Evaluation) -> set[tuple[str, str | None, str, int, str]]:
    prefix = evaluation.context.catalog.display_root + "/"  # type: ignore[union-attr]
    return {
        (f.rule, f.control, f.location.file.removeprefix(prefix), f.location.line, str(f.status))
        for f in evaluation.findings
    }


def subjects(evaluation: Evaluation, rule: str) -> set[str]:
    return {f.subject for f in evaluation.findings if f.rule == rule}


def notes(evaluation: Evaluation) -> list[tuple[str, str | None, str]]:
    return [(n.rule, n.control, n.text) for n in evaluation.not_assessed if n.rule]


def variant(tmp_path: Path, *edits: tuple[str, str, str]) -> Evaluation:
    """Evaluate a copy of the catalog with ``(file, old, new)`` replaced once each."""
    root = tmp_path / "iga-catalog"
    shutil.copytree(IGA, root)
    for rel, old, new in edits:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return evaluate(load_catalog(root))


def test_the_catalog_loads_without_warnings() -> None:
    catalog = load_catalog(IGA, strict=True)
    assert catalog.warnings == []
    assert (len(catalog.controls), len(catalog.reviews), len(catalog.systems)) == (9, 7, 3)


def test_controlbook_validate_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "validate", "--strict", str(IGA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


def test_exactly_the_deliberate_gaps_are_found(evaluation: Evaluation) -> None:
    assert found(evaluation) == EXPECTED


def test_exactly_this_is_not_assessed_for_want_of_evidence(evaluation: Evaluation) -> None:
    """Azure has only privileged slices, so sod-payments cannot be judged for its employee
    accounts (and neither can leavers' Azure accounts); i.moss left after the newest Okta
    snapshot."""
    assert notes(evaluation) == NOT_ASSESSED


def test_the_readme_lists_every_gap_at_its_location() -> None:
    readme = (IGA / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deliberate gaps", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| ([A-Z]{3}-\d) \| `([^`]+):(\d+)` \| ([\w-]+) \|", section, re.M))
    assert listed == {
        (rule, file, str(line), control) for rule, control, file, line, _s in EXPECTED
    }


def test_the_state_of_erp_is_three_extracts_each_for_its_own_account_types(
    evaluation: Evaluation,
) -> None:
    state = evaluation.context.states["erp"]  # type: ignore[union-attr]
    assert {p.extract.file: sorted(str(t) for t in p.types) for p in state} == {
        FULL_ERP: ["employee", "service", "third-party"],
        "extracts/erp/2026-07-10-privileged.csv": ["privileged"],
        "extracts/erp/2026-07-24-firefighter-vault.csv": ["break-glass"],
    }
    files = {p.extract.file for parts in evaluation.context.states.values() for p in parts}  # type: ignore[union-attr]
    assert not any("sod-violations" in f or "jml-events" in f for f in files)


# Near-misses: true facts that must not be reported.


def test_a_conflict_the_sod_report_lists_but_the_state_no_longer_holds_is_not_sod3(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """n.frost has both P2P duties in the derived SoD report (and in the older full snapshot);
    the privileged slice taken after the removal is the state of her ADM_ account."""
    report = (IGA / "extracts/erp/2026-07-02-sod-violations.csv").read_text(encoding="utf-8")
    assert "ADM_NFROST,n.frost,privileged,Z_AP_PAYMENT_RELEASE" in report
    assert "NFROST,n.frost,employee,Z_AP_VENDOR_MAINT" in report
    assert "n.frost" not in subjects(evaluation, "SOD-3")
    assert "SD-02-2026H1:ADM_NFROST" not in subjects(evaluation, "REM-1")
    assert not any("ADM_NFROST" in text for _r, _c, text in notes(evaluation))
    # read as a report, the privileged slice is no longer state: the full snapshot of
    # 2026-06-30 shows her conflict again
    without_slice = variant(
        tmp_path,
        (
            "systems.yaml",
            "extracts/erp/2026-07-10-privileged.csv\n        kind: accounts",
            "extracts/erp/2026-07-10-privileged.csv\n        kind: report",
        ),
    )
    assert "n.frost" in subjects(without_slice, "SOD-3")


def test_a_revoked_account_in_a_later_event_report_is_not_rem1(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """q.hale's Okta account, deactivated on 2026-03-25, is in the event report of 2026-04-01;
    the next accounts snapshot (2026-06-15) no longer has it."""
    account = "q.hale@ardent-ms.example"
    events = (IGA / "extracts/idp/jml-events-2026-Q1.csv").read_text(encoding="utf-8")
    assert f"{account},q.hale,third-party,LEAVER 2026-03-25" in events
    assert f"AC-03-2026Q1:{account}" not in subjects(evaluation, "REM-1")
    assert not any(account in text for _r, _c, text in notes(evaluation))
    # read as a snapshot, the event report would be the first accounts extract after removal
    as_snapshot = variant(
        tmp_path,
        (
            "reviews/2026-Q1/AC-05-2026Q1.yaml",
            "  system: idp\n  kind: events",
            "  system: idp\n  kind: accounts",
        ),
    )
    assert f"AC-03-2026Q1:{account}" in subjects(as_snapshot, "REM-1")


def test_a_person_written_in_other_case_with_spaces_is_not_an_orphan(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """' J.Smith ' in the SAP snapshot is j.smith of the directory."""
    assert "JSMITH, J.Smith ,employee," in (IGA / FULL_ERP).read_text(encoding="utf-8")
    assert subjects(evaluation, "ORP-1") == {"idp:p.lindgren"}
    assert not any("smith" in f.subject.lower() for f in evaluation.findings)
    misspelt = variant(tmp_path, (FULL_ERP, " J.Smith ", " J.Smyth "))
    assert "erp:J.Smyth" in subjects(misspelt, "ORP-1")


def test_the_break_glass_slice_taken_last_does_not_make_employee_accounts_look_removed(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """The CyberArk export (2026-07-24) is scoped to break-glass accounts: the employee
    accounts of SAP stay those of the 2026-06-30 snapshot."""
    assert "erp:m.haddad" in subjects(evaluation, "LVR-1")
    assert "l.baptiste" in subjects(evaluation, "SOD-3")
    assert "SODX-2026-003" in subjects(evaluation, "EXC-3")
    assert subjects(evaluation, "REM-1") == {"AC-01-2026Q1:GORTIZ"}
    (rem,) = [f for f in evaluation.findings if f.rule == "REM-1"]
    assert f"({FULL_ERP} line 9)" in rem.message
    assert not any(" on erp " in text for _r, _c, text in notes(evaluation))
    # without its scope, the vault export taken last would be the whole state of SAP
    unscoped = variant(
        tmp_path,
        (
            "systems.yaml",
            "        scope: [break-glass]      # a slice: the firefighter IDs vaulted in CyberArk\n",
            "",
        ),
    )
    assert "erp:m.haddad" not in subjects(unscoped, "LVR-1")
    assert "l.baptiste" not in subjects(unscoped, "SOD-3")
    assert "SODX-2026-003" not in subjects(unscoped, "EXC-3")
