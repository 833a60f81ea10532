"""Framework coverage: which controls map to each CSF 2.0 outcome and OWASP NHI risk, and how clean they are.

A control "covers" an element when one of its mappings resolves to it (a
subcategory also counts for its category and function). A covered element is
"clean" when every one of its controls is clean (:mod:`.status`: no open finding and
nothing unassessed): one clean control beside another with open findings does not make
the outcome clean. The share of clean subcategories is the headline figure the site and
PDFs show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..model import Catalog
from ..references import ResolutionStatus, load_csf, load_owasp_nhi, resolve_csf, resolve_nhi
from .evaluate import Evaluation
from .status import ControlStatus, control_status


@dataclass(frozen=True)
class ElementCoverage:
    """Coverage of one framework element (function, category, subcategory or NHI risk)."""

    id: str
    level: str
    title: str
    description: str
    controls: tuple[str, ...]
    clean_controls: tuple[str, ...]
    open_findings: int

    @property
    def covered(self) -> bool:
        return bool(self.controls)

    @property
    def clean(self) -> bool:
        return self.covered and len(self.clean_controls) == len(self.controls)


@dataclass(frozen=True)
class Share:
    """How many of ``total`` elements are covered, and covered by a clean control."""

    total: int
    covered: int
    clean: int

    @property
    def clean_ratio(self) -> float:
        return self.clean / self.total if self.total else 0.0

    @property
    def covered_ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0


@dataclass(frozen=True)
class Coverage:
    """CSF 2.0 elements in catalog order (function, its categories, their subcategories), and NHI risks."""

    csf: tuple[ElementCoverage, ...]
    nhi: tuple[ElementCoverage, ...]
    csf_subcategories: Share
    nhi_risks: Share

    def get(self, element_id: str) -> ElementCoverage | None:
        return next((e for e in (*self.csf, *self.nhi) if e.id == element_id), None)


def _mapped(catalog: Catalog) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Canonical element ID -> controls mapping to it, for CSF and for NHI."""
    csf: dict[str, set[str]] = defaultdict(set)
    nhi: dict[str, set[str]] = defaultdict(set)
    for control in catalog.controls.values():
        for ref in control.mappings.csf:
            result = resolve_csf(ref)
            if result.status == ResolutionStatus.EXACT:
                csf[ref].add(control.id)
            elif result.status == ResolutionStatus.IMPRECISE:
                csf[ref.strip()].add(control.id)
        for ref in control.mappings.owasp_nhi:
            if resolve_nhi(ref).status == ResolutionStatus.EXACT:
                nhi[ref].add(control.id)
    return csf, nhi


def compute(catalog: Catalog, evaluation: Evaluation) -> Coverage:
    """Coverage of the shipped frameworks by the catalog, given its evaluation."""
    open_by_control: dict[str, int] = defaultdict(int)
    for finding in evaluation.open:
        if finding.control:
            open_by_control[finding.control] += 1
    clean = {
        c.id
        for c in catalog.controls.values()
        if control_status(catalog, evaluation, c) == ControlStatus.CLEAN
    }

    def element(
        id_: str, level: str, title: str, description: str, controls: set[str]
    ) -> ElementCoverage:
        ordered = tuple(sorted(controls))
        return ElementCoverage(
            id=id_,
            level=level,
            title=title,
            description=description,
            controls=ordered,
            clean_controls=tuple(c for c in ordered if c in clean),
            open_findings=sum(open_by_control[c] for c in ordered),
        )

    csf_map, nhi_map = _mapped(catalog)
    framework = load_csf()
    csf: list[ElementCoverage] = []
    subcategories: list[ElementCoverage] = []
    for function in framework.functions:
        categories = framework.categories_of(function.id)
        function_controls = set(csf_map.get(function.id, set()))
        rows: list[ElementCoverage] = []
        for category in categories:
            category_controls = set(csf_map.get(category.id, set()))
            children = []
            for sub in framework.subcategories_of(category.id):
                controls = csf_map.get(sub.id, set())
                category_controls |= controls
                children.append(element(sub.id, "subcategory", sub.id, sub.description, controls))
            function_controls |= category_controls
            rows.append(
                element(
                    category.id, "category", category.name, category.description, category_controls
                )
            )
            rows.extend(children)
            subcategories.extend(children)
        csf.append(
            element(function.id, "function", function.name, function.description, function_controls)
        )
        csf.extend(rows)
    nhi = tuple(
        element(risk.id, "risk", risk.title, risk.description, nhi_map.get(risk.id, set()))
        for risk in load_owasp_nhi().risks
    )

    def share(items: list[ElementCoverage] | tuple[ElementCoverage, ...]) -> Share:
        return Share(len(items), sum(e.covered for e in items), sum(e.clean for e in items))

    return Coverage(tuple(csf), nhi, share(subcategories), share(nhi))
