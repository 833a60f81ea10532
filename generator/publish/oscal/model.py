"""Typed builders for the parts of OSCAL 1.1.2 that Controlbook writes, and nothing more.

Field names follow the OSCAL JSON names with ``-`` written ``_`` (``class_`` for
``class``); :func:`to_json` turns a tree of these dataclasses into OSCAL JSON, leaving
out ``None`` and empty lists (OSCAL forbids empty arrays). The field lists follow the
OSCAL 1.1.2 JSON reference pages (https://pages.nist.gov/OSCAL-Reference/models/v1.1.2/)
for the component definition, assessment plan, assessment results and POA&M models.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

OSCAL_VERSION = "1.1.2"


def to_json(value: Any) -> Any:
    """OSCAL JSON for a builder (or a list of them): hyphenated keys, no empty values."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for item in fields(value):
            raw = getattr(value, item.name)
            if raw is None or raw == ():
                continue
            out[item.name.rstrip("_").replace("_", "-")] = to_json(raw)
        return out
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


@dataclass(frozen=True)
class Prop:
    name: str
    value: str
    ns: str | None = None
    class_: str | None = None
    remarks: str | None = None


@dataclass(frozen=True)
class Link:
    href: str
    rel: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class Party:
    uuid: str
    type: str  # "person" or "organization"
    name: str
    props: tuple[Prop, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class ResponsibleRole:
    role_id: str
    party_uuids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metadata:
    title: str
    last_modified: str
    version: str
    oscal_version: str = OSCAL_VERSION
    published: str | None = None
    props: tuple[Prop, ...] = ()
    links: tuple[Link, ...] = ()
    roles: tuple[Role, ...] = ()
    parties: tuple[Party, ...] = ()
    remarks: str | None = None


# --- component definition ---------------------------------------------------------------


@dataclass(frozen=True)
class ImplementedRequirement:
    uuid: str
    control_id: str
    description: str
    props: tuple[Prop, ...] = ()
    links: tuple[Link, ...] = ()
    responsible_roles: tuple[ResponsibleRole, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class ControlImplementation:
    uuid: str
    source: str
    description: str
    implemented_requirements: tuple[ImplementedRequirement, ...]
    props: tuple[Prop, ...] = ()


@dataclass(frozen=True)
class DefinedComponent:
    uuid: str
    type: str
    title: str
    description: str
    control_implementations: tuple[ControlImplementation, ...]
    purpose: str | None = None
    props: tuple[Prop, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class ComponentDefinition:
    uuid: str
    metadata: Metadata
    components: tuple[DefinedComponent, ...]


# --- assessment plan and results --------------------------------------------------------


@dataclass(frozen=True)
class IncludeControl:
    control_id: str


@dataclass(frozen=True)
class ControlSelection:
    include_controls: tuple[IncludeControl, ...]
    description: str | None = None


@dataclass(frozen=True)
class ReviewedControls:
    control_selections: tuple[ControlSelection, ...]
    description: str | None = None


@dataclass(frozen=True)
class Activity:
    uuid: str
    title: str
    description: str
    props: tuple[Prop, ...] = ()


@dataclass(frozen=True)
class LocalDefinitions:
    activities: tuple[Activity, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class OnDate:
    date: str


@dataclass(frozen=True)
class Timing:
    on_date: OnDate


@dataclass(frozen=True)
class Task:
    uuid: str
    type: str
    title: str
    description: str | None = None
    timing: Timing | None = None
    remarks: str | None = None


@dataclass(frozen=True)
class Href:
    """``import-ssp`` and ``import-ap``: a reference to another document."""

    href: str
    remarks: str | None = None


@dataclass(frozen=True)
class AssessmentPlan:
    uuid: str
    metadata: Metadata
    import_ssp: Href
    reviewed_controls: ReviewedControls
    local_definitions: LocalDefinitions | None = None
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True)
class RelevantEvidence:
    description: str
    href: str | None = None
    props: tuple[Prop, ...] = ()


@dataclass(frozen=True)
class Observation:
    uuid: str
    title: str
    description: str
    methods: tuple[str, ...]
    collected: str
    types: tuple[str, ...] = ()
    props: tuple[Prop, ...] = ()
    relevant_evidence: tuple[RelevantEvidence, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class ObjectiveStatus:
    state: str  # "satisfied" or "not-satisfied"
    reason: str | None = None  # "pass", "fail" or "other"
    remarks: str | None = None


@dataclass(frozen=True)
class FindingTarget:
    type: str  # "statement-id" or "objective-id"
    target_id: str
    status: ObjectiveStatus
    title: str | None = None


@dataclass(frozen=True)
class RelatedObservation:
    observation_uuid: str


@dataclass(frozen=True)
class AssociatedRisk:
    risk_uuid: str


@dataclass(frozen=True)
class Finding:
    uuid: str
    title: str
    description: str
    target: FindingTarget
    implementation_statement_uuid: str | None = None
    props: tuple[Prop, ...] = ()
    related_observations: tuple[RelatedObservation, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class Result:
    uuid: str
    title: str
    description: str
    start: str
    reviewed_controls: ReviewedControls
    end: str | None = None
    props: tuple[Prop, ...] = ()
    observations: tuple[Observation, ...] = ()
    findings: tuple[Finding, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class AssessmentResults:
    uuid: str
    metadata: Metadata
    import_ap: Href
    results: tuple[Result, ...]


# --- plan of action and milestones ------------------------------------------------------


@dataclass(frozen=True)
class OriginActor:
    type: str  # "tool", "assessment-platform" or "party"
    actor_uuid: str


@dataclass(frozen=True)
class Origin:
    actors: tuple[OriginActor, ...]


@dataclass(frozen=True)
class Facet:
    name: str
    system: str
    value: str


@dataclass(frozen=True)
class Characterization:
    origin: Origin
    facets: tuple[Facet, ...]


@dataclass(frozen=True)
class Risk:
    uuid: str
    title: str
    description: str
    statement: str
    status: str
    props: tuple[Prop, ...] = ()
    characterizations: tuple[Characterization, ...] = ()
    related_observations: tuple[RelatedObservation, ...] = ()


@dataclass(frozen=True)
class PoamItem:
    uuid: str
    title: str
    description: str
    props: tuple[Prop, ...] = ()
    related_observations: tuple[RelatedObservation, ...] = ()
    related_risks: tuple[AssociatedRisk, ...] = ()
    remarks: str | None = None


@dataclass(frozen=True)
class SystemId:
    id: str
    identifier_type: str | None = None


@dataclass(frozen=True)
class PlanOfActionAndMilestones:
    uuid: str
    metadata: Metadata
    poam_items: tuple[PoamItem, ...]
    system_id: SystemId | None = None
    observations: tuple[Observation, ...] = ()
    risks: tuple[Risk, ...] = ()
