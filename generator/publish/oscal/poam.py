"""The OSCAL plan of action and milestones: one item per open finding.

Each open (not waived) finding becomes a POA&M item with its observation (the same UUID
as in the assessment results) and a risk whose severity is a characterization facet
``severity`` in Controlbook's namespace. The risk's statement is the finding's hint (how
to close it). OSCAL requires at least one item, so with no open finding there is no
POA&M (:func:`poam` returns None).
"""

from __future__ import annotations

from ...evaluation.evaluate import Evaluation
from ...model import Catalog
from .assessment import finding_observation, observed
from .component import prop
from .ids import NS, one_line, oscal_uuid, timestamp
from .model import (
    AssociatedRisk,
    Characterization,
    Facet,
    Metadata,
    Origin,
    OriginActor,
    PlanOfActionAndMilestones,
    PoamItem,
    RelatedObservation,
    Risk,
    SystemId,
)

TOOL_UUID = oscal_uuid("tool", "controlbook")
"""The actor of every risk characterization: Controlbook's evaluation (a tool)."""


def poam(
    catalog: Catalog, evaluation: Evaluation, metadata: Metadata
) -> PlanOfActionAndMilestones | None:
    organisation = catalog.settings.organisation
    collected = timestamp(evaluation.as_of)
    items = [item for item in observed(evaluation.findings) if item.finding.is_open]
    if not items:
        return None
    observations = tuple(finding_observation(catalog, item, collected) for item in items)
    risks = []
    poam_items = []
    for item, observation in zip(items, observations, strict=True):
        finding = item.finding
        severity = str(finding.severity)
        risk_uuid = oscal_uuid("risk", item.key)
        title = observation.title
        risks.append(
            Risk(
                risk_uuid,
                title,
                finding.message.strip() or title,
                finding.hint.strip() or "See the finding.",
                "open",
                props=prop("severity", severity),
                characterizations=(
                    Characterization(
                        Origin((OriginActor("tool", TOOL_UUID),)),
                        (Facet("severity", NS, severity),),
                    ),
                ),
                related_observations=(RelatedObservation(observation.uuid),),
            )
        )
        poam_items.append(
            PoamItem(
                oscal_uuid("poam-item", item.key),
                one_line(f"{finding.control or 'Catalog'}: {title}"),
                finding.message.strip() or title,
                props=(
                    *prop("severity", severity),
                    *prop("rule", finding.rule),
                    *prop("control-id", finding.control),
                ),
                related_observations=(RelatedObservation(observation.uuid),),
                related_risks=(AssociatedRisk(risk_uuid),),
            )
        )
    return PlanOfActionAndMilestones(
        oscal_uuid("poam", organisation, evaluation.as_of.isoformat()),
        metadata,
        tuple(poam_items),
        system_id=SystemId(one_line(organisation) or "controlbook", identifier_type=NS),
        observations=observations,
        risks=tuple(risks),
    )
