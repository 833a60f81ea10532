"""Coverage as text (tables), JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from tabulate import tabulate

from ..evaluation.coverage import Coverage, ElementCoverage
from .cells import safe_cell

COLUMNS = ("framework", "id", "level", "title", "controls", "clean_controls", "open_findings")


def _rows(coverage: Coverage) -> list[tuple[str, ElementCoverage]]:
    return [("NIST CSF 2.0", e) for e in coverage.csf] + [
        ("OWASP NHI 2025", e) for e in coverage.nhi
    ]


def render_text(coverage: Coverage) -> str:
    def pct(ratio: float) -> str:
        return f"{ratio:.0%}"

    lines = []
    for title, items in (("NIST CSF 2.0", coverage.csf), ("OWASP NHI Top 10 (2025)", coverage.nhi)):
        table = [
            [
                ("  " * {"function": 0, "category": 1, "subcategory": 2, "risk": 0}[e.level])
                + e.id,
                e.title if e.level != "subcategory" else e.description[:60],
                ", ".join(e.controls) or "-",
                e.open_findings,
                "clean" if e.clean else ("gaps" if e.covered else "not covered"),
            ]
            for e in items
        ]
        lines += [
            title,
            tabulate(table, ["id", "title", "controls", "open findings", "status"]),
            "",
        ]
    sub, nhi = coverage.csf_subcategories, coverage.nhi_risks
    lines.append(
        f"CSF 2.0 subcategories: {sub.covered}/{sub.total} covered ({pct(sub.covered_ratio)}), "
        f"{sub.clean}/{sub.total} with clean evidence ({pct(sub.clean_ratio)})"
    )
    lines.append(
        f"OWASP NHI risks: {nhi.covered}/{nhi.total} covered, {nhi.clean}/{nhi.total} with clean evidence"
    )
    return "\n".join(lines) + "\n"


def render_json(coverage: Coverage) -> str:
    body = {
        "csf": [asdict(e) for e in coverage.csf],
        "nhi": [asdict(e) for e in coverage.nhi],
        "summary": {
            "csf_subcategories": asdict(coverage.csf_subcategories),
            "nhi_risks": asdict(coverage.nhi_risks),
        },
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def render_csv(coverage: Coverage) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for framework, e in _rows(coverage):
        writer.writerow(
            [
                framework,
                e.id,
                e.level,
                safe_cell(e.title),
                " ".join(e.controls),
                " ".join(e.clean_controls),
                e.open_findings,
            ]
        )
    return out.getvalue()
