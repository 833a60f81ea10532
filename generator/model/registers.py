"""Registers kept beside the controls: SoD rules, exceptions, break-glass, NHIs, waivers."""

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
    Timestamp,
)


class DutyGrant(Record):
    """An entitlement in a system that grants a duty."""

    system: SystemRef = Field(description="System where the entitlement exists.")
    entitlement: str = Field(description="Entitlement (role, group, permission) as in extracts.")


class Duty(Record):
    """A business duty, and the entitlements that grant it."""

    id: Id = Field(description="ID, unique within the rule set, e.g. 'create-vendor'.")
    name: Prose = Field(description="What the duty allows.")
    grants: list[DutyGrant] = Field(description="Entitlements that grant the duty.")


class Conflict(Record):
    """Two duties one person must not hold together."""

    duties: list[Id] = Field(min_length=2, max_length=2, description="The two duty IDs.")
    risk: Prose | None = Field(default=None, description="What could go wrong.")


class SodRuleset(Record):
    """A segregation-of-duties rule set (``kind: sod-ruleset``), e.g. procure-to-pay."""

    kind: Literal["sod-ruleset"]
    id: Id = Field(description="Rule set ID, e.g. 'sod-p2p'.")
    name: Prose = Field(description="Display name.")
    description: Prose | None = Field(default=None, description="Scope of the rule set.")
    duties: list[Duty] = Field(description="Duties and the entitlements granting them.")
    conflicts: list[Conflict] = Field(description="Conflicting pairs of duties (SOD-3).")


class SodException(Record):
    """An approved exception to a SoD conflict for one person (EXC-1 ... EXC-3)."""

    id: Id = Field(description="Exception ID.")
    person: PersonRef = Field(description="Who holds the conflicting duties.")
    ruleset: RulesetRef = Field(description="The rule set of the conflict.")
    conflict: list[Id] = Field(min_length=2, max_length=2, description="The two duty IDs.")
    requester: PersonRef | None = Field(default=None, description="Who asked for it.")
    approver: PersonRef | None = Field(
        default=None, description="Who approved it; not the requester."
    )
    business_owner: PersonRef | None = Field(
        default=None, description="Accountable business owner."
    )
    control_owner: PersonRef | None = Field(default=None, description="Accountable control owner.")
    justification: str | None = Field(default=None, description="Why it is needed.")
    control: ControlRef | None = Field(
        default=None,
        description="The SoD control the exception belongs to (default: the control that "
        "enforces the rule set); its findings are filed there.",
    )
    compensating_control: ControlRef | None = Field(
        default=None, description="Detective control that covers the risk meanwhile."
    )
    granted: Day = Field(description="When it took effect.")
    expires: Day | None = Field(default=None, description="When it ends (EXC-2, EXC-3).")


class ExceptionsFile(Record):
    kind: Literal["sod-exceptions"]
    exceptions: list[SodException] = Field(description="The exceptions.")


class BreakGlassEvent(Record):
    """One use of an emergency (firefighter) account (BRK-1)."""

    id: Id = Field(description="Event ID.")
    system: SystemRef = Field(description="System accessed.")
    account: str = Field(description="The break-glass account used.")
    used_by: PersonRef = Field(description="Who used it.")
    control: ControlRef | None = Field(default=None, description="Control governing the use.")
    started: Timestamp = Field(description="Start of use.")
    ended: Timestamp | None = Field(default=None, description="End of use.")
    ticket: str | None = Field(default=None, description="Incident or change reference.")
    justification: str | None = Field(default=None, description="Why it was needed (BRK-1).")
    accepted_by: PersonRef | None = Field(default=None, description="Who accepted it (BRK-1).")
    accepted_at: Timestamp | None = Field(
        default=None,
        description="When the use was accepted; after the use ended is a finding (BRK-1).",
    )
    reviewed_by: PersonRef | None = Field(default=None, description="Post-event reviewer (BRK-1).")
    reviewed_at: Timestamp | None = Field(default=None, description="When reviewed (BRK-1).")


class BreakGlassLog(Record):
    kind: Literal["break-glass-log"]
    events: list[BreakGlassEvent] = Field(description="The events.")


class NhiKind(StrEnum):
    SERVICE_ACCOUNT = "service-account"
    API_KEY = "api-key"
    TOKEN = "token"
    CERTIFICATE = "certificate"
    WORKLOAD_IDENTITY = "workload-identity"


class InteractiveLogin(Record):
    """A human-style (interactive) login recorded for a non-human identity (NHI-3)."""

    at: Timestamp = Field(description="When.")
    detail: Prose | None = Field(default=None, description="Where from, by whom, which tool.")


class NonHumanIdentity(Record):
    """A service account, key, token or workload identity (NHI-1 ... NHI-3)."""

    id: Id = Field(description="Inventory ID.")
    system: SystemRef = Field(description="System the identity lives in.")
    account: str = Field(description="Account name as in extracts.")
    type: NhiKind = Field(description="What kind of credential it is.")
    owner: PersonRef | None = Field(default=None, description="Accountable human owner (NHI-1).")
    purpose: Prose | None = Field(default=None, description="What it is used for.")
    vendor: Prose | None = Field(default=None, description="Third party it belongs to, if any.")
    last_rotated: Day | None = Field(default=None, description="Last credential rotation (NHI-2).")
    rotation_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DAYS,
        description="Rotation policy in days (default: settings; NHI-2).",
    )
    interactive_logins: list[InteractiveLogin] = Field(
        default_factory=list, description="Interactive logins seen (NHI-3)."
    )


class NhiInventory(Record):
    kind: Literal["nhi-inventory"]
    identities: list[NonHumanIdentity] = Field(description="The identities.")


class Waiver(Record):
    """A recorded decision to accept a finding for a while (approver, reason, expiry)."""

    id: Id = Field(description="Waiver ID.")
    rule: str = Field(description="Rule ID waived, e.g. 'CAD-2'.")
    control: ControlRef = Field(description="Control the finding concerns.")
    subject: str | None = Field(
        default=None, description="Only this subject (account, person...); empty: all."
    )
    approver: PersonRef | None = Field(default=None, description="Who accepted the risk.")
    reason: str | None = Field(default=None, description="Why it is accepted.")
    expires: Day | None = Field(default=None, description="When the waiver stops hiding it.")


class WaiversFile(Record):
    kind: Literal["waivers"]
    waivers: list[Waiver] = Field(description="The waivers.")
