"""`controlbook sample`: an audit sample anyone can draw again, with sha256sum and sort."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from click.testing import CliRunner

from generator.catalog.loader import load_catalog
from generator.cli import main
from generator.evaluation.evaluate import evaluate
from generator.evaluation.sampling import draw
from tests.conftest import EXAMPLE

SHELL_METHOD = """
while IFS= read -r key; do
  printf '%s %s\\n' "$(printf '%s' "$SEED$key" | sha256sum | cut -d' ' -f1)" "$key"
done < "$POPULATION" | LC_ALL=C sort | head -n "$N" | cut -d' ' -f2-
"""


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
        ["bash", "-c", SHELL_METHOD],
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
    sampled = [line.rsplit(",", 1)[1] for line in text.splitlines() if line[:1].isdigit()]
    assert len(sampled) == 7
    assert redrawn == sampled


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
