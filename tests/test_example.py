"""The example catalog: its deliberate gaps are found exactly, and nothing else.

`controls/README.md` lists the gaps for people; this test holds the same list for
the evaluator, by rule, control and location, and checks the README agrees.
"""

from __future__ import annotations

import re

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from tests.conftest import EXAMPLE

# (rule, control, file relative to controls/, line, status)
EXPECTED = {
    ("BRK-1", "ITGC-BG-01", "break-glass.yaml", 53, "open"),
    ("OWN-3", "ITGC-CHG-01", "controls/ITGC-CHG-01.yaml", 19, "open"),
    ("OWN-4", "ITGC-JML-02", "controls/ITGC-JML-02.yaml", 18, "open"),
    ("OWN-1", "ITGC-LOG-01", "controls/ITGC-LOG-01.yaml", 17, "open"),
    ("NHI-1", "ITGC-NHI-01", "nhi.yaml", 37, "open"),
    ("NHI-2", "ITGC-NHI-01", "nhi.yaml", 64, "open"),
    ("NHI-3", "ITGC-NHI-01", "nhi.yaml", 93, "open"),
    ("POP-2", "ITGC-NHI-01", "systems.yaml", 41, "open"),
    ("CAD-1", "ITGC-PAR-ENTRA", "controls/ITGC-PAR-ENTRA.yaml", 28, "open"),
    ("SOD-1", "ITGC-PAR-ERP", "reviews/2026-Q1/PAR-ERP-2026Q1.yaml", 27, "open"),
    ("EVD-2", "ITGC-PAR-ERP", "reviews/2026-Q2/PAR-ERP-2026Q2.yaml", 53, "open"),
    ("SOD-2", "ITGC-PAR-FINDB", "reviews/2026-Q2/PAR-FINDB-2026Q2.yaml", 30, "open"),
    ("OWN-2", "ITGC-PWD-01", "controls/ITGC-PWD-01.yaml", 16, "open"),
    ("SOD-3", "ITGC-SOD-01", "extracts/erp/2026-09-15.csv", 9, "open"),
    ("EXC-3", "ITGC-SOD-02", "exceptions.yaml", 39, "open"),
    ("POP-3", "ITGC-UAR-AWS", "reviews/2026-Q2/UAR-AWS-2026Q2.yaml", 25, "open"),
    ("CAD-2", "ITGC-UAR-ENTRA", "reviews/2026-Q2/UAR-ENTRA-2026Q2.yaml", 13, "waived"),
    ("REM-1", "ITGC-UAR-ERP", "reviews/2026-Q1/UAR-ERP-2026Q1.yaml", 82, "open"),
    ("CAD-2", "ITGC-UAR-FINDB", "reviews/2026-Q1/UAR-FINDB-2026Q1.yaml", 13, "open"),
    ("MAP-2", "ITGC-UAR-HRIS", "controls/ITGC-UAR-HRIS.yaml", 54, "open"),
    ("EVD-1", "ITGC-UAR-HRIS", "reviews/2026-Q1/UAR-HRIS-2026Q1.yaml", 40, "open"),
}


def found() -> set[tuple[str, str | None, str, int, str]]:
    catalog = load_catalog(EXAMPLE)
    prefix = catalog.display_root + "/"
    return {
        (f.rule, f.control, f.location.file.removeprefix(prefix), f.location.line, str(f.status))
        for f in evaluate(catalog).findings
    }


def test_exactly_the_deliberate_gaps_are_found() -> None:
    assert found() == EXPECTED


def test_the_example_readme_lists_every_gap_at_its_location() -> None:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([A-Z]{3}-\d) \| `([^`]+):(\d+)`", readme, flags=re.M))
    assert listed == {(rule, file, str(line)) for rule, _c, file, line, _s in EXPECTED}


def test_the_example_spans_at_least_ten_rule_ids() -> None:
    assert len({rule for rule, *_ in EXPECTED}) >= 10


def test_exactly_this_is_not_assessed_for_want_of_evidence() -> None:
    """Rules say what they could not judge: the wiki (confluence) has no accounts extract at
    all, so nothing shows whether the people who left still hold accounts there."""
    evaluation = evaluate(load_catalog(EXAMPLE))
    assert [(n.rule, n.control, n.text) for n in evaluation.not_assessed if n.rule] == [
        (
            "LVR-1",
            None,
            "LVR-1 not assessed on confluence for employee, privileged accounts of m.grant "
            "(left 2026-03-20), d.wu (left 2026-04-03), h.singh (left 2026-05-15), u.brandt "
            "(left 2026-06-30): no accounts extract of confluence covering them was taken "
            "after the leaving date.",
        )
    ]
