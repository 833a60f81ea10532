"""The OSCAL component definition: how the catalog's controls implement NIST CSF 2.0.

One component stands for the whole catalog (type ``process-procedure``): a Controlbook
control is a procedure (an access review, a check) that may span several systems, so
splitting it per system would repeat it. Each control is a ``control-implementation``
against NIST's OSCAL CSF 2.0 catalog with one ``implemented-requirement`` per CSF
subcategory it maps to; the systems it covers, its frequency and its OWASP NHI risks are
props (NHI risks also as links to OWASP's pages: OSCAL has no NHI catalog to point to).
"""

from __future__ import annotations

from datetime import date

from ...model import Catalog, Control, PersonKind
from ...model.controls import population_systems
from ...references import load_owasp_nhi
from .ids import NS, csf_catalog_href, csf_oscal_ids, one_line, oscal_uuid
from .model import (
    ComponentDefinition,
    ControlImplementation,
    DefinedComponent,
    ImplementedRequirement,
    Link,
    Metadata,
    Party,
    Prop,
    ResponsibleRole,
    Role,
)

ROLES: tuple[Role, ...] = (
    Role("control-owner", "Control owner", "The named person accountable for the control."),
    Role("control-executor", "Control executor", "Who operates the control day to day."),
    Role("system-owner", "System owner", "Decides how access to the system is structured."),
    Role("iam-operator", "IAM operator", "Operates the access data and the review workflow."),
    Role("compliance-validator", "Compliance validator", "Confirms the control satisfies SOX."),
    Role("application-owner", "Application owner", "Confirms access is appropriate."),
)


def prop(name: str, value: str | None) -> tuple[Prop, ...]:
    """A Controlbook prop, or nothing when the value is empty (OSCAL forbids empty values)."""
    text = one_line(value)
    return (Prop(name, text, ns=NS),) if text else ()


def party_uuid(person_id: str) -> str:
    return oscal_uuid("party", person_id)


def control_people(catalog: Catalog, control: Control, as_of: date) -> dict[str, str]:
    """Role ID -> person ID for the control at ``as_of`` (owner from the owner history)."""
    owner = control.owner_on(as_of)
    roles = control.roles
    found = {
        "control-owner": owner.person if owner else None,
        "control-executor": control.executor,
        "system-owner": roles.system_owner,
        "iam-operator": roles.iam_operator,
        "compliance-validator": roles.compliance_validator,
        "application-owner": roles.application_owner,
    }
    return {role: person for role, person in found.items() if person}


def parties(catalog: Catalog, as_of: date) -> tuple[Party, ...]:
    """Every person or team named in a role of a control, as an OSCAL party."""
    named = sorted(
        {p for c in catalog.controls.values() for p in control_people(catalog, c, as_of).values()}
    )
    out = []
    for person_id in named:
        person = catalog.people.get(person_id)
        if person is None:  # OWN-2 says so; the party still names who the catalog names
            out.append(
                Party(
                    party_uuid(person_id),
                    "person",
                    person_id,
                    prop("person-id", person_id),
                    remarks="Not in the catalog's directory (see OWN-2).",
                )
            )
            continue
        kind = "person" if person.kind == PersonKind.PERSON else "organization"
        out.append(
            Party(
                party_uuid(person_id),
                kind,
                one_line(person.name) or person_id,
                (*prop("person-id", person_id), *prop("person-kind", str(person.kind))),
            )
        )
    return tuple(out)


def control_description(control: Control) -> str:
    parts = [control.title.strip(), (control.objective or "").strip()]
    return "\n\n".join(p for p in parts if p)


def control_props(control: Control) -> tuple[Prop, ...]:
    systems = sorted(
        {*control.systems, *(s for p in control.populations for s in population_systems(p))}
    )
    return (
        *prop("control-id", control.id),
        *prop("frequency", str(control.frequency)),
        *prop("nature", str(control.nature)),
        *prop("automation", str(control.automation)),
        *prop("key-control", "true" if control.key else "false"),
        *(p for system in systems for p in prop("system", system)),
    )


def nhi_props_and_links(control: Control) -> tuple[tuple[Prop, ...], tuple[Link, ...]]:
    """OWASP NHI Top 10 risks as props (the ID) and links (OWASP's page for the risk)."""
    catalog = load_owasp_nhi()
    props: list[Prop] = []
    links: list[Link] = []
    for risk_id in sorted(set(control.mappings.owasp_nhi)):
        props.extend(prop("owasp-nhi-risk", risk_id))
        risk = catalog.get(risk_id)
        if risk is not None:
            links.append(Link(risk.url, "reference", one_line(f"{risk.id} {risk.title}")))
    return tuple(props), tuple(links)


def mapped_csf(control: Control) -> list[str]:
    """The control's CSF IDs that exist in NIST's OSCAL catalog (MAP-2 reports the others)."""
    known = csf_oscal_ids()
    return sorted({c for c in control.mappings.csf if c in known})


def requirement_uuid(control_id: str, csf_id: str) -> str:
    return oscal_uuid("implemented-requirement", control_id, csf_id)


def control_implementation(
    catalog: Catalog, control: Control, as_of: date
) -> ControlImplementation | None:
    """The control's implementation of its CSF subcategories, or None when it maps to none."""
    csf_ids = mapped_csf(control)
    if not csf_ids:
        return None
    people = control_people(catalog, control, as_of)
    responsible = tuple(
        ResponsibleRole(role.id, (party_uuid(people[role.id]),))
        for role in ROLES
        if role.id in people
    )
    nhi_props, nhi_links = nhi_props_and_links(control)
    base = control_props(control)
    requirements = tuple(
        ImplementedRequirement(
            requirement_uuid(control.id, csf_id),
            csf_id,
            control_description(control),
            props=(*base, *nhi_props),
            links=nhi_links,
            responsible_roles=responsible,
            remarks=None if "control-owner" in people else f"No owner on record on {as_of}.",
        )
        for csf_id in csf_ids
    )
    return ControlImplementation(
        oscal_uuid("control-implementation", control.id),
        csf_catalog_href(),
        control_description(control),
        requirements,
        props=base,
    )


def component_definition(catalog: Catalog, as_of: date, metadata: Metadata) -> ComponentDefinition:
    organisation = catalog.settings.organisation
    implementations = {
        cid: control_implementation(catalog, control, as_of)
        for cid, control in sorted(catalog.controls.items())
    }
    unmapped = [cid for cid, impl in implementations.items() if impl is None]
    remarks = (
        "Controls with no CSF 2.0 subcategory of NIST's OSCAL catalog have no control "
        f"implementation here (see MAP-1 and MAP-2): {', '.join(unmapped)}."
        if unmapped
        else None
    )
    component = DefinedComponent(
        oscal_uuid("component", organisation),
        "process-procedure",
        one_line(f"{organisation} IT general controls") or "IT general controls",
        f"The IT general controls of {organisation} as kept in its Controlbook catalog.",
        tuple(i for i in implementations.values() if i is not None),
        purpose="Access, ownership and evidence controls over the systems in scope.",
        props=tuple(p for sid in sorted(catalog.systems) for p in prop("system", sid)),
        remarks=remarks,
    )
    return ComponentDefinition(
        oscal_uuid("component-definition", organisation), metadata, (component,)
    )
