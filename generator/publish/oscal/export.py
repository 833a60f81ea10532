"""Build the four OSCAL documents of one evaluation and write them, all or nothing."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import __version__
from ...errors import InputError
from ...evaluation.evaluate import Evaluation
from ...model import Catalog
from .assessment import COMPONENT_FILE, PLAN_FILE, assessment_plan, assessment_results
from .component import ROLES, component_definition, parties, prop
from .ids import one_line, timestamp
from .model import Metadata, to_json
from .poam import poam

RESULTS_FILE = "assessment-results.json"
POAM_FILE = "poam.json"
FILES = (COMPONENT_FILE, PLAN_FILE, RESULTS_FILE, POAM_FILE)


def _metadata(catalog: Catalog, evaluation: Evaluation, title: str, *, people: bool) -> Metadata:
    organisation = one_line(catalog.settings.organisation)
    return Metadata(
        one_line(f"{organisation}: {title}"),
        timestamp(evaluation.as_of),
        evaluation.as_of.isoformat(),
        props=(
            *prop("generator", f"controlbook {__version__}"),
            *prop("as-of", evaluation.as_of.isoformat()),
        ),
        roles=ROLES if people else (),
        parties=parties(catalog, evaluation.as_of) if people else (),
    )


def dumps(document: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 text, one final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_documents(catalog: Catalog, evaluation: Evaluation) -> dict[str, str]:
    """File name -> OSCAL JSON text; no POA&M when there is no open finding."""
    meta = _metadata
    documents: dict[str, dict[str, Any]] = {
        COMPONENT_FILE: {
            "component-definition": to_json(
                component_definition(
                    catalog,
                    evaluation.as_of,
                    meta(catalog, evaluation, "control implementations", people=True),
                )
            )
        },
        PLAN_FILE: {
            "assessment-plan": to_json(
                assessment_plan(
                    catalog, evaluation, meta(catalog, evaluation, "assessment plan", people=False)
                )
            )
        },
        RESULTS_FILE: {
            "assessment-results": to_json(
                assessment_results(
                    catalog,
                    evaluation,
                    meta(catalog, evaluation, "assessment results", people=False),
                )
            )
        },
    }
    plan = poam(catalog, evaluation, meta(catalog, evaluation, "plan of action", people=False))
    if plan is not None:
        documents[POAM_FILE] = {"plan-of-action-and-milestones": to_json(plan)}
    return {name: dumps(body) for name, body in documents.items()}


@dataclass(frozen=True)
class Written:
    written: tuple[Path, ...]
    removed: tuple[Path, ...]
    """A POA&M of an earlier export, removed because no finding is open any more."""


def export_oscal(catalog: Catalog, evaluation: Evaluation, out: Path) -> Written:
    """Write the documents into ``out`` (created if needed): each to a temporary name
    first, then all renamed, so an error leaves no half-written document."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: not a folder (--out names the folder to write into)")
    if out.exists() and os.path.realpath(out) == os.path.realpath(catalog.root):
        raise InputError(f"{out}: is the catalog folder; write the export somewhere else")
    documents = build_documents(catalog, evaluation)
    out.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for name, text in documents.items():
            target = out / name
            temp = out / f".{name}.{os.getpid()}.tmp"
            temp.write_text(text, encoding="utf-8")
            temps.append((temp, target))
        for temp, target in temps:
            os.replace(temp, target)
    finally:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
    stale = out / POAM_FILE
    removed: tuple[Path, ...] = ()
    if POAM_FILE not in documents and stale.is_file():
        stale.unlink()
        removed = (stale,)
    return Written(tuple(out / name for name in documents), removed)
