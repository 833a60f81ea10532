"""Framework coverage: which controls map to each CSF 2.0 outcome and OWASP NHI risk."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from generator.cli import main
from generator.evaluation.coverage import compute
from generator.evaluation.evaluate import evaluate
from generator.report.cells import safe_cell
from tests.conftest import CatalogDir

CONTROL = "controls/UAR-APP-01.yaml"


def test_a_subcategory_mapping_rolls_up_to_category_and_function(starter: CatalogDir) -> None:
    catalog = starter.load()
    coverage = compute(catalog, evaluate(catalog))
    for element in ("PR.AA-05", "PR.AA", "PR"):
        assert coverage.get(element).controls == ("UAR-APP-01",), element  # type: ignore[union-attr]
    assert coverage.get("PR.AA-01").controls == ()  # type: ignore[union-attr]
    assert (coverage.csf_subcategories.total, coverage.csf_subcategories.covered) == (106, 1)
    assert coverage.csf_subcategories.clean == 1
    assert len(coverage.nhi) == 10


def test_a_control_with_open_findings_covers_but_is_not_clean(starter: CatalogDir) -> None:
    starter.replace(
        CONTROL, "executor: iam-team            # who runs", "executor: j.okafor  # who runs"
    )
    catalog = starter.load()
    element = compute(catalog, evaluate(catalog)).get("PR.AA-05")
    assert element is not None
    assert element.covered
    assert not element.clean
    assert element.open_findings == 1  # OWN-3: the owner executes


def test_invalid_ids_count_for_nothing_and_categories_count_for_the_category(
    starter: CatalogDir,
) -> None:
    starter.replace(CONTROL, "csf: [PR.AA-05]", "csf: [PR.AC-4, DE.CM]\n  owasp_nhi: [NHI1:2025]")
    catalog = starter.load()
    coverage = compute(catalog, evaluate(catalog))
    assert coverage.csf_subcategories.covered == 0
    assert coverage.get("DE.CM").controls == ("UAR-APP-01",)  # type: ignore[union-attr]
    assert coverage.get("NHI1:2025").controls == ("UAR-APP-01",)  # type: ignore[union-attr]


def test_coverage_command_formats(starter: CatalogDir) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["coverage", str(starter.path)])
    assert text.exit_code == 0
    assert (
        "CSF 2.0 subcategories: 1/106 covered (1%), 1/106 with clean evidence (1%)" in text.output
    )
    body = json.loads(
        runner.invoke(main, ["coverage", str(starter.path), "--format", "json"]).output
    )
    assert body["summary"]["csf_subcategories"] == {"total": 106, "covered": 1, "clean": 1}
    rows = list(
        csv.DictReader(
            io.StringIO(
                runner.invoke(main, ["coverage", str(starter.path), "--format", "csv"]).output
            )
        )
    )
    assert len(rows) == 6 + 22 + 106 + 10
    assert next(r for r in rows if r["id"] == "PR.AA-05")["controls"] == "UAR-APP-01"


def test_csv_cells_cannot_become_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://evil","x")').startswith("'=")
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("Identity Management") == "Identity Management"
