"""Evidence retention: stated in years or months, read everywhere in months."""

from __future__ import annotations

import pytest

from generator.model.retention import describe
from tests.conftest import CatalogDir


@pytest.mark.parametrize(
    ("months", "shown"),
    [(84, "7 years"), (12, "1 year"), (13, "13 months"), (1, "1 month"), (0, "0 months")],
)
def test_retention_reads_as_people_write_it(months: int, shown: str) -> None:
    assert describe(months) == shown


def test_a_retention_in_years_and_in_months_at_once_is_refused(starter: CatalogDir) -> None:
    starter.write(
        "catalog.yaml",
        (starter.path / "catalog.yaml").read_text() + "evidence_retention_months: 13\n",
    )
    problems = starter.problems()
    assert [p for p in problems if "retention" in p] == [
        "catalog.yaml:18:28: error: evidence_retention_months: state evidence retention in "
        "years or in months, not both"
    ]


@pytest.mark.parametrize(
    "field", ["evidence_retention_years: 1e38", "evidence_retention_years: 101"]
)
def test_an_absurd_retention_is_a_data_error(starter: CatalogDir, field: str) -> None:
    text = (starter.path / "catalog.yaml").read_text()
    starter.write("catalog.yaml", text.replace("evidence_retention_years: 7", field))
    assert any(p.startswith("catalog.yaml:10:") and "error" in p for p in starter.problems())
