"""`controlbook sample`: an audit sample anyone can draw again, with sha256sum and sort."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.catalog.loader import load_catalog
from generator.cli import main
from generator.evaluation.evaluate import evaluate
from generator.evaluation.sampling import draw
from tests.conftest import EXAMPLE

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_method() -> str:
    """The shell lines of the README's "Re-performing a sample" (between its markers),
    without the line that sets the variables: the test sets them."""
    block = README.split("<!-- sample-method -->", 1)[1].split("<!-- /sample-method -->", 1)[0]
    lines = block.strip().removeprefix("```sh").removesuffix("```").strip().splitlines()
    assert lines[0].startswith("SEED=")
    return "\n".join(lines[1:]) + "\n"


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["sample", str(EXAMPLE), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_seed_gives_the_same_bytes() -> None:
    first = run("--control", "ITGC-UAR-ERP", "--seed", "audit-2026", "--format", "csv")
    assert first == run("--control", "ITGC-UAR-ERP", "--seed", "audit-2026", "--format", "csv")
    assert first != run("--control", "ITGC-UAR-ERP", "--seed", "audit-2027", "--format", "csv")


def test_the_method_in_the_docs_redraws_it_with_sha256sum_and_sort_alone(tmp_path: Path) -> None:
    population = tmp_path / "population.txt"
    text = run(
        "--control", "ITGC-UAR-ERP", "--seed", "FY26-walkthrough", "--size", "7",
        "--population", str(population), "--format", "csv",
    )  # fmt: skip
    digest = subprocess.run(
        ["sha256sum", str(population)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert f"sha256 {digest} " in text  # the population printed is the one written
    redrawn = subprocess.run(
        ["bash", "-c", readme_method()],
        env={
            "SEED": "FY26-walkthrough",
            "POPULATION": str(population),
            "N": "7",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert redrawn[0].split()[0] == digest  # the README's first check: the population hash
    sampled = [line.rsplit(",", 1)[1] for line in text.splitlines() if line[:1].isdigit()]
    assert len(sampled) == 7
    assert redrawn[1:] == sampled


def test_the_workpaper_is_prefilled_from_the_evaluation() -> None:
    catalog = load_catalog(EXAMPLE)
    evaluation = evaluate(catalog)
    control = catalog.controls["ITGC-UAR-ERP"]
    everything = draw(catalog, evaluation, control, size=1000)
    assert everything.size == everything.population_size == 37
    pobrien = next(
        i
        for i in everything.items
        if (i.account, i.review, i.decision) == ("POBRIEN", "UAR-ERP-2026Q1", "revoke")
    )
    attributes = dict(pobrien.attributes)
    assert attributes["remediation in time"].startswith("no: REM-1 ")
    assert attributes["decision recorded"] == "yes"
    keep = next(i for i in everything.items if i.decision == "keep")
    assert dict(keep.attributes)["remediation in time"] == "not applicable (nothing to remove)"
    assert (
        everything.population_sha256
        == hashlib.sha256("".join(f"{k}\n" for k in everything.population).encode()).hexdigest()
    )


def test_an_unknown_control_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["sample", str(EXAMPLE), "--control", "ITGC-UAR-ERR"])
    assert result.exit_code == 2
    assert "did you mean 'ITGC-UAR-ERP'" in result.output


def test_a_period_samples_only_the_reviews_of_that_period_and_seeds_with_it() -> None:
    whole = run("--control", "ITGC-UAR-ERP", "--size", "1000", "--format", "csv")
    q1 = run(
        "--control", "ITGC-UAR-ERP", "--size", "1000", "--format", "csv",
        "--period", "2026-01-01..2026-03-31",
    )  # fmt: skip
    assert "UAR-ERP-2026Q1" in q1
    assert "UAR-ERP-2026Q2" not in q1
    assert "UAR-ERP-2026Q2" in whole
    assert "# seed: ITGC-UAR-ERP:2026-01-01:2026-03-31\n" in q1
    assert "# period: 2026-01-01 to 2026-03-31\n" in q1
    result = CliRunner().invoke(
        main, ["sample", str(EXAMPLE), "--control", "ITGC-UAR-ERP", "--period", "2026-Q1"]
    )
    assert result.exit_code == 2
    assert "'2026-Q1' is not START..END" in result.output


def test_the_xlsx_workpaper_holds_the_csv_rows_as_text_and_rebuilds_byte_for_byte(
    tmp_path: Path,
) -> None:
    args = ("--control", "ITGC-UAR-ERP", "--seed", "audit-2026", "--size", "5")
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    run(*args, "--format", "xlsx", "--output", str(first))
    run(*args, "--format", "xlsx", "--output", str(second))
    assert first.read_bytes() == second.read_bytes()
    text = run(*args, "--format", "csv")
    method = [line.removeprefix("# ") for line in text.splitlines() if line.startswith("# ")]
    table = list(csv.reader(io.StringIO("".join(text.splitlines(True)[len(method) :]))))
    sheet = openpyxl.load_workbook(first)["Sample"]
    values = [
        [c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert [row[0] for row in values[: len(method)]] == method  # seed, population hash, method
    body = values[len(method) + 1 :]
    assert body[0][:-1] == table[0]  # the CSV's columns, then the auditor's conclusion
    assert body[0][-1] == "auditor conclusion"
    assert [row[: len(table[0])] for row in body[1:]] == [
        [cell.removeprefix("'") for cell in row] for row in table[1:]
    ]  # the CSV guards formula-like cells with a quote; the workbook holds them as text
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value)


def test_an_xlsx_workpaper_needs_an_output_file() -> None:
    result = CliRunner().invoke(
        main, ["sample", str(EXAMPLE), "--control", "ITGC-UAR-ERP", "--format", "xlsx"]
    )
    assert result.exit_code == 2
    assert "--format xlsx writes a workbook: give --output FILE.xlsx" in result.output


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_opens_the_workpaper(tmp_path: Path) -> None:
    book = tmp_path / "sample.xlsx"
    run("--control", "ITGC-UAR-ERP", "--seed", "audit-2026", "--size", "3",
        "--format", "xlsx", "--output", str(book))  # fmt: skip
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
         str(tmp_path / "lo"), str(book)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    rows = list(csv.reader((tmp_path / "lo" / "sample.csv").open(encoding="utf-8")))
    assert rows[0][0] == "control: ITGC-UAR-ERP"
    assert sum(1 for r in rows if r and r[0] in {"1", "2", "3"}) == 3
