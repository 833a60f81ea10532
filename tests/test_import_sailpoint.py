"""``controlbook import sailpoint-campaign``: a SailPoint campaign's reports become the
decisions, remediation and sign-off of a real review of the example catalog (UAR-ERP-2026Q2,
the quarterly SAP review), and ``check`` then judges them like any other review.

The fixtures in tests/data/imports/sailpoint/ follow the report columns of
https://documentation.sailpoint.com/saas/help/certs/campaign_status_reports.html (see the
README there for each file's page).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.evidence import catalogwrite
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import run, snapshot

DATA = ROOT / "tests" / "data" / "imports" / "sailpoint"
STATUS = DATA / "campaign-status.csv"  # Campaign Status Report
REMEDIATION = DATA / "campaign-remediation-status.csv"  # Campaign Remediation Status Report
SIGN_OFF = DATA / "certification-sign-off.csv"  # Certification Sign Off Report
MAPPING = DATA / "mapping.yaml"
REVIEW = "reviews/2026-Q2/UAR-ERP-2026Q2.yaml"
ITEMS = "reviews/2026-Q2/UAR-ERP-2026Q2.items.csv"


def imported(catalog: Path, *files: Path, mapping: Path | None = MAPPING) -> Result:
    extra = ("--mapping", mapping) if mapping else ()
    return run(
        "import",
        "sailpoint-campaign",
        *files,
        "--review",
        "UAR-ERP-2026Q2",
        "--catalog",
        catalog,
        *extra,
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """The example catalog with UAR-ERP-2026Q2 as IAM leaves it before the campaign's
    results are in: no decisions, no sign-off (comments and every other key kept)."""
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    path = target / REVIEW
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^items:\n(?:[ \t].*\n|\n)*", "", text, flags=re.M)
    text = re.sub(r"^sign_off:\n(?:[ \t].*\n)*", "", text, flags=re.M)
    text = re.sub(r"^completed: .*\n", "", text, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return target


def findings(catalog: Path, review: str = "UAR-ERP-2026Q2") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in evaluate(load_catalog(catalog)).findings:
        if finding.subject.startswith(review) or review in finding.message:
            out.setdefault(finding.rule, []).append(finding.message)
    return out


def items_rows(catalog: Path) -> list[list[str]]:
    import csv

    with (catalog / ITEMS).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_the_campaign_decisions_become_the_items_file_registered_with_its_sha256(
    catalog: Path,
) -> None:
    result = imported(catalog, STATUS, REMEDIATION, SIGN_OFF)
    assert result.exit_code == 0, result.output
    assert "imported 18 decision item(s) (14 keep, 3 revoke; 1 undecided)" in result.output
    rows = items_rows(catalog)
    assert rows[0] == [
        "account",
        "system",
        "entitlement",
        "decision",
        "decided_by",
        "decided_at",
        "comment",
        "remediation_ticket",
        "remediation_completed",
    ]
    by_key = {(r[0], r[2]): r for r in rows[1:]}
    assert by_key[("TBROOKS", "Z_R2R_JE_POST")] == [
        "TBROOKS", "", "Z_R2R_JE_POST", "revoke", "r.patel", "2026-07-06T13:20:51Z",
        "Park or post: not both", "RITM0047702", "2026-07-10",
    ]  # fmt: skip
    # the reviewer's UTF-8 name is mapped, the comment keeps its characters
    assert by_key[("ESANTOS", "Z_P2P_PO_CREATE")][4] == "v.castillo"
    assert by_key[("ESANTOS", "Z_P2P_PO_CREATE")][6] == "Bestellanforderung über Einkauf – OK"
    assert by_key[("ROKOYE", "Z_P2P_VENDOR_MAINT")][3:6] == ["", "", ""]
    review = yaml.safe_load((catalog / REVIEW).read_text(encoding="utf-8"))
    data = (catalog / ITEMS).read_bytes()
    assert review["items_file"] == {"file": ITEMS, "sha256": hashlib.sha256(data).hexdigest()}
    raws = [
        a
        for a in review["attachments"]
        if a["file"].startswith("evidence/raw/reviews/UAR-ERP-2026Q2/")
    ]
    assert len(raws) == 4  # three reports and the mapping
    for attachment in raws:
        kept = (catalog / attachment["file"]).read_bytes()
        assert hashlib.sha256(kept).hexdigest() == attachment["sha256"]
    assert (catalog / raws[0]["file"]).read_bytes() == STATUS.read_bytes()
    text = (catalog / REVIEW).read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server")  # comments and layout kept
    assert "retain_until: 2033-12-31  # records schedule FIN-07" in text


def test_the_same_import_twice_changes_no_byte(catalog: Path) -> None:
    assert imported(catalog, STATUS, REMEDIATION, SIGN_OFF).exit_code == 0
    before = snapshot(catalog)
    again = imported(catalog, STATUS, REMEDIATION, SIGN_OFF)
    assert again.exit_code == 0, again.output
    assert "already imported" in again.output
    assert snapshot(catalog) == before


def test_check_finds_the_self_review_the_undecided_item_the_unremoved_revoke_and_the_excluded_accounts(
    catalog: Path,
) -> None:
    result = imported(catalog, STATUS, REMEDIATION, SIGN_OFF)
    assert (
        "2 account(s) of extracts/erp/2026-06-30.csv are not in the campaign: NADEYEMI "
        "(excluded by the campaign's filter, or its identity was not in the campaign); VCASTILLO"
    ) in result.output
    found = findings(catalog)
    assert any("'l.nguyen' decided on their own account 'LNGUYEN'" in m for m in found["SOD-1"])
    assert any("'ROKOYE': no decision" in m for m in found["EVD-1"])
    # TBROOKS keeps Z_R2R_JE_POST in the 2026-09-15 extract; POBRIEN's billing role is gone
    assert [m for m in found["REM-1"] if "UAR-ERP-2026Q2" in m] == [
        m for m in found["REM-1"] if "'TBROOKS' (Z_R2R_JE_POST)" in m
    ]
    assert len([m for m in found["REM-1"] if "TBROOKS" in m]) == 1
    assert any("not reviewed: NADEYEMI, VCASTILLO" in m for m in found["POP-3"])


def test_an_account_without_a_person_is_reported_as_uncorrelated(
    catalog: Path, tmp_path: Path
) -> None:
    extract = catalog / "extracts/erp/2026-06-30.csv"
    data = extract.read_bytes().replace(b"VCASTILLO,v.castillo,", b"VCASTILLO,,")
    extract.write_bytes(data)
    text = (catalog / REVIEW).read_text(encoding="utf-8")
    text = re.sub(r"sha256: 90c3\w+", f"sha256: {hashlib.sha256(data).hexdigest()}", text)
    (catalog / REVIEW).write_text(text, encoding="utf-8")
    result = imported(catalog, STATUS)
    assert (
        "VCASTILLO (no person behind it: SailPoint certifies correlated accounts only)"
        in result.output
    )
    # and the POP-3 finding says why the campaign left it out
    messages = [f.message for f in evaluate(load_catalog(catalog)).findings if f.rule == "POP-3"]
    assert any(
        "were not reviewed: NADEYEMI, VCASTILLO (1 of them with no person in the extract: "
        "uncorrelated accounts, which a campaign by identity leaves out: VCASTILLO)" in m
        for m in messages
    ), messages


def test_a_sign_off_over_undecided_items_is_not_recorded_and_the_attachment_says_so(
    catalog: Path,
) -> None:
    result = imported(catalog, STATUS, REMEDIATION, SIGN_OFF)
    assert "sign-off:   not recorded" in result.output
    assert "1 item(s) have no decision" in result.output
    review = yaml.safe_load((catalog / REVIEW).read_text(encoding="utf-8"))
    assert "sign_off" not in review
    assert "completed" not in review
    described = [
        a["description"] for a in review["attachments"] if "Sign Off" in a.get("description", "")
    ]
    assert len(described) == 1
    assert "no sign-off recorded" in described[0]


def test_a_campaign_decided_in_full_records_the_last_sign_off_and_completion(
    catalog: Path, tmp_path: Path
) -> None:
    status = tmp_path / "status.csv"
    status.write_bytes(
        STATUS.read_bytes().replace(
            b",Z_P2P_VENDOR_MAINT,SAP S/4HANA Production,ROKOYE,,,",
            b",Z_P2P_VENDOR_MAINT,SAP S/4HANA Production,ROKOYE,Approve,2026-07-08T14:59:12Z,",
        )
    )
    result = imported(catalog, status, REMEDIATION, SIGN_OFF)
    assert result.exit_code == 0, result.output
    assert "sign-off:   j.whitaker at 2026-07-15T19:44:00Z" in result.output
    review = load_catalog(catalog).reviews["UAR-ERP-2026Q2"]
    assert review.sign_off is not None
    assert review.sign_off.by == "j.whitaker"
    assert str(review.completed) == "2026-07-15"
    assert not findings(catalog).get("EVD-1")


def test_a_certification_not_yet_signed_off_leaves_the_review_open(
    catalog: Path, tmp_path: Path
) -> None:
    sign_off = tmp_path / "sign-off.csv"
    sign_off.write_bytes(SIGN_OFF.read_bytes().replace(b"Yes,2026-07-14T14:05:00Z", b"No,"))
    result = imported(catalog, STATUS, sign_off)
    assert result.exit_code == 0, result.output
    assert "not signed off yet: ERP Q2 2026 Manager Certification - Daniel Romero" in result.output
    assert "sign_off" not in yaml.safe_load((catalog / REVIEW).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("fixture", "where", "message"),
    [
        ("not-a-report.csv", ":1:1:", "not a SailPoint campaign report"),
        ("malformed-status.csv", ":3:1:", "unknown decision 'Revokd'; did you mean 'Revoke'?"),
        (
            "malformed-remediation-status.csv",
            ":2:1:",
            "Remediation Status Completed without a date",
        ),
        ("malformed-sign-off.csv", ":2:1:", "signed off without a Sign Off Date"),
    ],
)
def test_a_malformed_report_is_refused_with_its_line_and_nothing_is_written(
    catalog: Path, fixture: str, where: str, message: str
) -> None:
    before = snapshot(catalog)
    files = (
        (DATA / fixture,)
        if fixture.endswith("status.csv") and "remediation" not in fixture
        else (STATUS, DATA / fixture)
    )
    result = imported(catalog, *files)
    assert result.exit_code == 2, result.output
    assert f"{fixture}{where}" in result.output
    assert message in result.output
    assert snapshot(catalog) == before


def test_a_file_that_is_no_report_names_the_three_headers_expected(catalog: Path) -> None:
    result = imported(catalog, DATA / "not-a-report.csv")
    assert "Campaign Status Report: Campaign Name, Reviewer Name" in result.output
    assert "Campaign Remediation Status Report:" in result.output
    assert "Certification Sign Off Report:" in result.output


def test_a_reviewer_who_is_no_person_is_listed_and_nothing_is_written(catalog: Path) -> None:
    before = snapshot(catalog)
    result = imported(catalog, STATUS, mapping=None)
    assert result.exit_code == 2
    assert "reviewer(s) that are no person of the directory: 'Víctor Castillo'" in result.output
    assert "campaign-status.csv:5:1" in result.output
    assert snapshot(catalog) == before


def test_an_unknown_review_is_refused_with_a_suggestion(catalog: Path) -> None:
    result = run(
        "import", "sailpoint-campaign", STATUS, "--review", "UAR-ERP-2026Q3", "--catalog", catalog
    )
    assert result.exit_code == 2
    assert "--review 'UAR-ERP-2026Q3' is not a review" in result.output
    assert "did you mean" in result.output


def test_a_review_with_decisions_written_by_hand_is_refused(catalog: Path) -> None:
    result = run(
        "import", "sailpoint-campaign", STATUS, "--review", "UAR-ERP-2026Q1", "--catalog", catalog
    )
    assert result.exit_code == 2
    assert "already records" in result.output
    assert "under items:" in result.output


def test_a_source_of_another_system_is_refused(catalog: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "people:\n  Víctor Castillo: v.castillo\nsystems:\n  SAP S/4HANA Production: hris\n",
        encoding="utf-8",
    )
    result = imported(catalog, STATUS, mapping=mapping)
    assert result.exit_code == 2
    assert "'hris', which is no system of review UAR-ERP-2026Q2" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("csv", "--review", "UAR-ERP-2026Q2"), "--review is for sailpoint-campaign"),
        (("csv",), "csv needs --system ID"),
        (("sailpoint-campaign",), "sailpoint-campaign needs --review ID"),
        (
            ("sailpoint-campaign", "--review", "UAR-ERP-2026Q2", "--scope", "employee"),
            "--scope does not apply",
        ),
    ],
)
def test_a_wrong_combination_of_options_is_a_usage_error(
    catalog: Path, args: tuple[str, ...], message: str
) -> None:
    fmt, *rest = args
    result = run("import", fmt, STATUS, "--catalog", catalog, *rest)
    assert result.exit_code == 2
    assert message in result.output


def test_an_interrupted_import_leaves_the_catalog_as_it_was(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(catalog)
    real = catalogwrite.os.replace
    calls = []

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("disk full")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(catalogwrite.os, "replace", failing)
    result = imported(catalog, STATUS, REMEDIATION, SIGN_OFF)
    assert result.exit_code != 0
    monkeypatch.undo()
    assert snapshot(catalog) == before
    assert not list(catalog.rglob("*.import-tmp"))
