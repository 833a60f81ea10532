"""``controlbook review new``: a review to be decided, written from an imported extract.

The population evidence is the extract's record (nobody copies a hash by hand), the items
are the extract's rows of the population, each decision left empty; the stub validates,
and EVD-1 lists what is left to decide. Whatever it refuses, it writes nothing.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import run, snapshot

AWS = ROOT / "tests" / "data" / "imports" / "aws-credential-report"
EXTRACT = "extracts/aws/2026-09-20-aws-credential-report.csv"
STUB = "reviews/2026-H2/ITGC-NHI-01-aws-service-2026H2.yaml"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    result = run(
        "import", "aws-credential-report", AWS / "get-credential-report.json",
        "--catalog", target, "--system", "aws",
        "--scope", "privileged,service,break-glass,third-party",
        "--mapping", AWS / "mapping.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return target


def new(catalog: Path, *extra: str) -> Result:
    return run(
        "review", "new", "ITGC-NHI-01", "aws-service", "--extract", EXTRACT,
        "--catalog", catalog, *extra,
    )  # fmt: skip


def test_the_stub_holds_the_extracts_record_and_one_item_per_service_row(catalog: Path) -> None:
    result = new(catalog, "--reviewer", "a.rossi")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"wrote {catalog / STUB}: review ITGC-NHI-01-aws-service-2026H2 of "
        "2026-07-01..2026-12-31, 5 item(s) to decide\n"
    )
    review = yaml.safe_load((catalog / STUB).read_text(encoding="utf-8"))
    record = load_catalog(catalog).systems["aws"].extracts[-1]
    evidence = review["evidence"]
    assert evidence["file"] == EXTRACT
    assert evidence["sha256"] == record.sha256
    assert evidence["records"] == record.records == 11
    assert evidence["source"] == record.source
    assert evidence["derived_from"]["importer"] == "aws-credential-report/2"
    # The semi-annual control's half-year that holds 2026-09-20; the service rows only
    # (the administrators, break-glass and third-party rows belong to other populations).
    assert review["period"] == {"start": date(2026, 7, 1), "end": date(2026, 12, 31)}
    assert [(i["account"], i["entitlement"]) for i in review["items"]] == [
        ("svc-findw-loader", "access-key-1"),
        ("svc-findw-loader", "access-key-2"),
        ("svc-sap-archive", "access-key-1"),
        ("svc-sap-archive", "signing-certificate-1"),
        ("svc-terraform-ci", "access-key-2"),
    ]
    assert all(i["decision"] is None and i["decided_by"] is None for i in review["items"])
    assert review["reviewers"] == ["a.rossi"]
    assert run("validate", catalog).exit_code == 0


def test_until_decided_evd1_lists_each_item_and_after_deciding_none(catalog: Path) -> None:
    assert new(catalog).exit_code == 0
    review_id = "ITGC-NHI-01-aws-service-2026H2"

    def evd1() -> list[str]:
        found = evaluate(load_catalog(catalog)).findings
        return [f.subject for f in found if f.rule == "EVD-1" and f.subject.startswith(review_id)]

    assert len(evd1()) == 5
    stub = catalog / STUB
    stub.write_text(
        stub.read_text()
        .replace("    decision:\n", "    decision: keep\n")
        .replace("    decided_by:\n", "    decided_by: a.rossi\n")
        .replace("    decided_at:\n", "    decided_at: 2026-09-25T10:00:00Z\n")
    )
    assert evd1() == []


def test_a_second_stub_for_the_same_review_is_refused_and_writes_nothing(catalog: Path) -> None:
    assert new(catalog).exit_code == 0
    before = snapshot(catalog)
    again = new(catalog)
    assert again.exit_code == 2
    assert "review ITGC-NHI-01-aws-service-2026H2 exists already" in again.output
    assert snapshot(catalog) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "new", "ITGC-NHI-01", "aws-servce", "--extract", EXTRACT),
         "ITGC-NHI-01 has no population 'aws-servce' (it has: erp-service, aws-service"),
        (("review", "new", "ITGC-NHI-01", "aws-service", "--extract", "extracts/aws/other.csv"),
         "extracts/aws/other.csv is not an extract listed under extracts: of aws"),
        (("review", "new", "ITGC-NHI-01", "aws-service", "--extract", EXTRACT,
          "--period", "2026-07-01..2026-13-01"),
         "'2026-07-01..2026-13-01' is not START..END"),
        (("review", "new", "ITGC-NHI-01", "aws-service", "--extract", EXTRACT,
          "--reviewer", "nobody"),
         "reviewer 'nobody' is not a person of the directory"),
    ],
)  # fmt: skip
def test_what_the_catalog_would_not_accept_is_refused(
    catalog: Path, args: tuple[str, ...], message: str
) -> None:
    before = snapshot(catalog)
    result = run(*args, "--catalog", catalog)
    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(catalog) == before


def test_an_extract_changed_since_it_was_recorded_is_not_reviewed(catalog: Path) -> None:
    extract = catalog / EXTRACT
    extract.write_text(extract.read_text().replace("svc-terraform-ci", "svc-terraform-cd"))
    before = snapshot(catalog)
    result = new(catalog)
    assert result.exit_code == 2
    assert f"{EXTRACT} no longer has its recorded sha256 (EVD-2)" in result.output
    assert snapshot(catalog) == before


def test_an_explicit_period_and_id_name_the_file(catalog: Path) -> None:
    result = new(catalog, "--period", "2026-09-01..2026-09-30", "--id", "NHI-AWS-2026-09")
    assert result.exit_code == 0, result.output
    written = catalog / "reviews/2026-09-01_2026-09-30/NHI-AWS-2026-09.yaml"
    assert yaml.safe_load(written.read_text())["id"] == "NHI-AWS-2026-09"
