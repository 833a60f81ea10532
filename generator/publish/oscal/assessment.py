"""The OSCAL assessment plan and assessment results of one evaluation.

The plan (OSCAL requires one behind every set of results) lists the reviewed CSF
subcategories, the as-of date as its one task, and every rule as an activity. The results
hold one ``result`` for the evaluation: each Controlbook finding is an ``observation``
(rule, subject, and the catalog file and line as relevant evidence), each "not assessed"
note is one too, and each implemented requirement gets a ``finding`` whose status comes
from :func:`generator.evaluation.status.control_status`: clean is ``satisfied``; open
findings are ``not-satisfied`` (reason ``fail``); not assessed is ``not-satisfied``
(reason ``other``), since OSCAL has no "not assessed" state and a control is never
satisfied by default.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from ...evaluation.evaluate import Evaluation
from ...evaluation.findings import Finding as CbFinding
from ...evaluation.findings import NotAssessed
from ...evaluation.rules import RULES_BY_ID
from ...evaluation.status import ControlStatus, control_status
from ...model import Catalog
from .component import mapped_csf, prop, requirement_uuid
from .ids import csf_oscal_ids, one_line, oscal_uuid, timestamp
from .model import (
    Activity,
    AssessmentPlan,
    AssessmentResults,
    ControlSelection,
    Finding,
    FindingTarget,
    Href,
    IncludeControl,
    LocalDefinitions,
    Metadata,
    ObjectiveStatus,
    Observation,
    OnDate,
    Prop,
    RelatedObservation,
    RelevantEvidence,
    Result,
    ReviewedControls,
    Task,
    Timing,
)

PLAN_FILE = "assessment-plan.json"
COMPONENT_FILE = "component-definition.json"


@dataclass(frozen=True)
class Observed:
    """A Controlbook finding with the name its observation's UUID is made from."""

    finding: CbFinding
    key: str

    @property
    def uuid(self) -> str:
        return oscal_uuid("observation", self.key)


def observed(findings: tuple[CbFinding, ...]) -> list[Observed]:
    """Each finding with its key ``rule:control:subject`` (``#2``, ``#3``… for repeats)."""
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        key = f"{finding.rule}:{finding.control or ''}:{finding.subject}"
        seen[key] += 1
        out.append(Observed(finding, key if seen[key] == 1 else f"{key}#{seen[key]}"))
    return out


def catalog_path(catalog: Catalog, file: str) -> str:
    """A finding's file relative to the catalog folder (as it is in git), when it is inside."""
    root = catalog.display_root
    if root not in ("", ".") and file.startswith(root.rstrip("/") + "/"):
        return file[len(root.rstrip("/")) + 1 :]
    return file


def reviewed_csf(catalog: Catalog) -> ReviewedControls:
    ids = sorted({c for control in catalog.controls.values() for c in mapped_csf(control)})
    selection = ControlSelection(
        tuple(IncludeControl(c) for c in ids),
        description="The CSF 2.0 subcategories the catalog's controls map to.",
    )
    return ReviewedControls((selection,), description="NIST CSF 2.0 (NIST's OSCAL catalog).")


def assessment_plan(catalog: Catalog, evaluation: Evaluation, metadata: Metadata) -> AssessmentPlan:
    organisation = catalog.settings.organisation
    as_of = evaluation.as_of.isoformat()
    activities = tuple(
        Activity(
            oscal_uuid("activity", rule.id),
            one_line(f"{rule.id}: {rule.name}"),
            rule.summary.strip() or rule.name,
            props=(
                *prop("rule", rule.id),
                *prop("family", rule.family),
                *prop("severity", str(rule.severity)),
            ),
        )
        for rule in sorted(evaluation.rules, key=lambda r: r.id)
    )
    task = Task(
        oscal_uuid("task", organisation, as_of),
        "action",
        f"Evaluate the catalog as of {as_of}",
        description="Run every rule (the activities) over the catalog at the as-of date.",
        timing=Timing(OnDate(timestamp(evaluation.as_of))),
    )
    return AssessmentPlan(
        oscal_uuid("assessment-plan", organisation, as_of),
        metadata,
        Href(
            COMPONENT_FILE,
            remarks="Controlbook keeps no system security plan: this points to the component "
            "definition that describes how the controls are implemented.",
        ),
        reviewed_csf(catalog),
        local_definitions=LocalDefinitions(activities) if activities else None,
        tasks=(task,),
    )


def finding_observation(catalog: Catalog, item: Observed, collected: str) -> Observation:
    finding = item.finding
    rule = RULES_BY_ID.get(finding.rule)
    loc = finding.location
    path = catalog_path(catalog, loc.file)
    where = f"{path}:{loc.line}:{loc.column}" if loc.line > 0 else path
    props: list[Prop] = [
        *prop("rule", finding.rule),
        *prop("severity", str(finding.severity)),
        *prop("finding-status", str(finding.status)),
        *prop("control-id", finding.control),
        *prop("subject", finding.subject),
    ]
    if finding.waiver is not None:
        props.extend(prop("waiver", finding.waiver.id))
    evidence = RelevantEvidence(
        f"{where} (relative to the catalog folder)",
        href=quote(PurePosixPath(path).as_posix()) if path else None,
        props=(*prop("file", path), *prop("line", str(loc.line) if loc.line > 0 else None)),
    )
    notes = [n.strip() for n in finding.notes if n.strip()]
    return Observation(
        item.uuid,
        one_line(f"{finding.rule}: {rule.name if rule else 'Internal error'}"),
        "\n\n".join(p for p in (finding.message.strip(), f"Fix: {finding.hint.strip()}") if p),
        ("TEST",),
        collected,
        types=("finding",),
        props=tuple(props),
        relevant_evidence=(evidence,),
        remarks="\n\n".join(notes) or None,
    )


def note_key(note: NotAssessed, index: int) -> str:
    return f"{note.control or ''}:{note.rule or ''}:{index}"


def note_observation(note: NotAssessed, index: int, collected: str) -> Observation:
    return Observation(
        oscal_uuid("not-assessed", note_key(note, index)),
        one_line(f"Not assessed: {note.control or 'the catalog'}"),
        note.text.strip() or "Not assessed.",
        ("EXAMINE",),
        collected,
        types=("control-objective",),
        props=(
            *prop("assessment", "not-assessed"),
            *prop("missing-evidence", "true" if note.missing_evidence else "false"),
            *prop("control-id", note.control),
            *prop("rule", note.rule),
        ),
    )


STATUS = {
    ControlStatus.CLEAN: ObjectiveStatus("satisfied", "pass"),
    ControlStatus.OPEN_FINDINGS: ObjectiveStatus("not-satisfied", "fail"),
    ControlStatus.NOT_ASSESSED: ObjectiveStatus(
        "not-satisfied",
        "other",
        "Not assessed: evidence needed to judge the control is missing (see the observations).",
    ),
}


def control_findings(
    catalog: Catalog,
    evaluation: Evaluation,
    by_control: dict[str, list[str]],
) -> tuple[Finding, ...]:
    statements = csf_oscal_ids()
    out = []
    for control_id, control in sorted(catalog.controls.items()):
        status = control_status(catalog, evaluation, control)
        for csf_id in mapped_csf(control):
            out.append(
                Finding(
                    oscal_uuid("finding", control_id, csf_id),
                    one_line(f"{control_id} against {csf_id}: {status}"),
                    f"Controlbook control {control_id} ({one_line(control.title)}), which "
                    f"implements CSF 2.0 {csf_id}, has the status '{status}' on "
                    f"{evaluation.as_of}.",
                    FindingTarget("statement-id", statements[csf_id], STATUS[status]),
                    implementation_statement_uuid=requirement_uuid(control_id, csf_id),
                    props=(*prop("control-id", control_id), *prop("control-status", str(status))),
                    related_observations=tuple(
                        RelatedObservation(u) for u in by_control.get(control_id, [])
                    ),
                )
            )
    return tuple(out)


def assessment_results(
    catalog: Catalog, evaluation: Evaluation, metadata: Metadata
) -> AssessmentResults:
    organisation = catalog.settings.organisation
    as_of = evaluation.as_of
    collected = timestamp(as_of)
    items = observed(evaluation.findings)
    observations = [finding_observation(catalog, item, collected) for item in items]
    by_control: dict[str, list[str]] = {}
    for item in items:
        by_control.setdefault(item.finding.control or "", []).append(item.uuid)
    for index, note in enumerate(evaluation.not_assessed):
        observation = note_observation(note, index, collected)
        observations.append(observation)
        by_control.setdefault(note.control or "", []).append(observation.uuid)
    period = evaluation.period
    start = min(period.start, as_of)
    result = Result(
        oscal_uuid("result", organisation, as_of.isoformat()),
        f"Controlbook evaluation as of {as_of}",
        f"Every rule run over the catalog of {organisation} at {as_of}, for the assessed "
        f"period {period.start} to {period.end}.",
        timestamp(start),
        reviewed_csf(catalog),
        end=timestamp(as_of),
        props=(
            *prop("period-start", period.start.isoformat()),
            *prop("period-end", period.end.isoformat()),
            *prop("open-findings", str(len(evaluation.open))),
            *prop("waived-findings", str(len(evaluation.waived))),
        ),
        observations=tuple(observations),
        findings=control_findings(catalog, evaluation, by_control),
    )
    return AssessmentResults(
        oscal_uuid("assessment-results", organisation, as_of.isoformat()),
        metadata,
        Href(PLAN_FILE),
        (result,),
    )
