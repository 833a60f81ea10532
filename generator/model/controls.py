"""Controls: what is done, by whom, over which population, and why it matters."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .base import (
    MAX_DAYS,
    ControlRef,
    Day,
    Id,
    PersonRef,
    Prose,
    Record,
    RulesetRef,
    SystemRef,
)
from .retention import MAX_RETENTION_MONTHS, MAX_RETENTION_YEARS
from .systems import AccountType


class Nature(StrEnum):
    PREVENTIVE = "preventive"
    DETECTIVE = "detective"


class Automation(StrEnum):
    MANUAL = "manual"
    IT_DEPENDENT_MANUAL = "it-dependent-manual"
    AUTOMATED = "automated"


class Frequency(StrEnum):
    """How often the control operates; periodic ones expect one review per period."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi-annual"
    ANNUAL = "annual"
    EVENT_DRIVEN = "event-driven"
    CONTINUOUS = "continuous"

    @property
    def months(self) -> int | None:
        """Length of one review period in months, for the periodic review cadences."""
        return {"monthly": 1, "quarterly": 3, "semi-annual": 6, "annual": 12}.get(self.value)


class Ownership(Record):
    """One entry of the effective-dated owner history."""

    person: PersonRef = Field(description="The accountable owner: a named person (OWN-1, OWN-2).")
    since: Day = Field(description="First day of this ownership.")
    until: Day | None = Field(
        default=None, description="Last day of this ownership; empty while current (OWN-4)."
    )

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


class Roles(Record):
    """Who does what around the owner (the control's RACI)."""

    system_owner: PersonRef | None = Field(
        default=None, description="Decides how access to the system is structured."
    )
    iam_operator: PersonRef | None = Field(
        default=None,
        description="Operates the access data and the review workflow (a team is fine).",
    )
    compliance_validator: PersonRef | None = Field(
        default=None, description="Confirms the control satisfies SOX (finance / compliance)."
    )
    application_owner: PersonRef | None = Field(
        default=None, description="Confirms whether access is appropriate for the business."
    )


class Population(Record):
    """A named review population: which accounts of which system are reviewed."""

    id: Id = Field(description="ID, unique within the control, used by reviews.")
    name: Prose = Field(description="What the population is, e.g. 'ERP privileged accounts'.")
    system: SystemRef | None = Field(default=None, description="The system reviewed (POP-1).")
    systems: list[SystemRef] = Field(
        default_factory=list,
        description="For a population over several systems (one review, one ID): every "
        "system it covers; review items then name their system.",
    )
    account_types: list[AccountType] = Field(
        description="Kinds of accounts in the population; non-employee kinds must be named "
        "explicitly (POP-2)."
    )
    selection: Prose | None = Field(
        default=None,
        description="How the accounts are selected from the extract (report, filter).",
    )


def population_systems(population: Population) -> list[str]:
    """Every system a population covers: its ``system`` and its ``systems``, in order."""
    found = ([population.system] if population.system else []) + population.systems
    return list(dict.fromkeys(found))


class ApproverRole(StrEnum):
    """Who has authority to decide on an account in the population."""

    MANAGER = "manager"
    APPLICATION_OWNER = "application-owner"
    SYSTEM_OWNER = "system-owner"
    CONTROL_OWNER = "control-owner"
    NAMED = "named"


class ApprovalRule(Record):
    """Who decides on each account, and how the decision is recorded (POP-1)."""

    approver: ApproverRole = Field(description="Who decides on each item.")
    people: list[PersonRef] = Field(
        default_factory=list, description="With approver 'named': the people allowed to decide."
    )
    description: Prose | None = Field(default=None, description="The rule in words.")


class Mappings(Record):
    """Framework references (MAP-1, MAP-2)."""

    csf: list[str] = Field(
        default_factory=list, description="NIST CSF 2.0 subcategory IDs, e.g. 'PR.AA-05'."
    )
    owasp_nhi: list[str] = Field(
        default_factory=list, description="OWASP NHI Top 10 (2025) IDs, e.g. 'NHI1:2025'."
    )


class Control(Record):
    """One control of the catalog (``kind: control``), one file per control."""

    kind: Literal["control"]
    id: Id = Field(description="Stable control ID, e.g. 'ITGC-UAR-01'.")
    title: Prose = Field(description="Short title.")
    objective: Prose | None = Field(default=None, description="What the control achieves.")
    risk: Prose | None = Field(default=None, description="The risk it addresses.")
    key: bool = Field(default=False, description="Key control (tested by the auditor).")
    nature: Nature = Field(description="preventive or detective.")
    automation: Automation = Field(description="manual, it-dependent-manual or automated.")
    frequency: Frequency = Field(description="How often it operates (CAD-1, CAD-2).")
    owners: list[Ownership] = Field(
        default_factory=list, description="Effective-dated owner history (OWN-1 ... OWN-4)."
    )
    executor: PersonRef | None = Field(
        default=None, description="Who operates the control day to day; a team is fine (OWN-3)."
    )
    roles: Roles = Field(default_factory=Roles, description="RACI around the owner.")
    systems: list[SystemRef] = Field(default_factory=list, description="Systems in scope.")
    populations: list[Population] = Field(
        default_factory=list, description="Named review populations (POP-1, POP-2)."
    )
    approval: ApprovalRule | None = Field(default=None, description="Approval rule (POP-1).")
    procedure: Prose | None = Field(default=None, description="How the control is performed.")
    review_due_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DAYS,
        description="Days after a period ends by which its review is due (default: settings).",
    )
    evidence_retention_years: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETENTION_YEARS,
        description="Retention of evidence in years (default: settings; EVD-3).",
    )
    evidence_retention_months: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETENTION_MONTHS,
        description="Retention in months, where policy states it so (e.g. 13); instead of "
        "evidence_retention_years, not with it.",
    )
    mappings: Mappings = Field(default_factory=Mappings, description="Framework mappings.")
    sod_rulesets: list[RulesetRef] = Field(
        default_factory=list, description="SoD rule sets this control enforces (SOD-3)."
    )
    compensates: list[ControlRef] = Field(
        default_factory=list, description="Controls this one compensates for, if any."
    )

    def owner_on(self, day: date) -> Ownership | None:
        """The ownership entry in force on ``day`` (latest start wins on overlap)."""
        current = [o for o in self.owners if o.covers(day)]
        return max(current, key=lambda o: o.since) if current else None

    def population(self, population_id: str) -> Population | None:
        return next((p for p in self.populations if p.id == population_id), None)
