"""Typed models of a catalog: what each YAML file kind contains.

``FILE_KINDS`` maps the ``kind:`` key of a file to the model that reads it.
"""

from .base import Period, Record, Severity
from .catalog import Catalog
from .controls import (
    ApprovalRule,
    ApproverRole,
    Automation,
    Control,
    Frequency,
    Mappings,
    Nature,
    Ownership,
    Population,
    Roles,
)
from .people import PeopleFile, Person, PersonKind, Workforce
from .registers import (
    BreakGlassEvent,
    BreakGlassLog,
    Conflict,
    Duty,
    DutyGrant,
    ExceptionsFile,
    InteractiveLogin,
    NhiInventory,
    NhiKind,
    NonHumanIdentity,
    SodException,
    SodRuleset,
    Waiver,
    WaiversFile,
)
from .reviews import (
    Attachment,
    Decision,
    PopulationEvidence,
    Remediation,
    Review,
    ReviewItem,
    SignOff,
)
from .settings import Settings, Weakening
from .systems import (
    EXTRACT_COLUMNS,
    AccountType,
    AdministratorTerm,
    Extract,
    ExtractKind,
    System,
    SystemsFile,
)

FILE_KINDS: dict[str, type[Record]] = {
    "settings": Settings,
    "people": PeopleFile,
    "systems": SystemsFile,
    "control": Control,
    "review": Review,
    "sod-ruleset": SodRuleset,
    "sod-exceptions": ExceptionsFile,
    "break-glass-log": BreakGlassLog,
    "nhi-inventory": NhiInventory,
    "waivers": WaiversFile,
}
"""Every file kind, in the order the guide documents them."""

__all__ = [
    "EXTRACT_COLUMNS",
    "FILE_KINDS",
    "AccountType",
    "AdministratorTerm",
    "ApprovalRule",
    "ApproverRole",
    "Attachment",
    "Automation",
    "BreakGlassEvent",
    "BreakGlassLog",
    "Catalog",
    "Conflict",
    "Control",
    "Decision",
    "Duty",
    "DutyGrant",
    "ExceptionsFile",
    "Extract",
    "ExtractKind",
    "Frequency",
    "InteractiveLogin",
    "Mappings",
    "Nature",
    "NhiInventory",
    "NhiKind",
    "NonHumanIdentity",
    "Ownership",
    "PeopleFile",
    "Period",
    "Person",
    "PersonKind",
    "Population",
    "PopulationEvidence",
    "Record",
    "Remediation",
    "Review",
    "ReviewItem",
    "Roles",
    "Settings",
    "Severity",
    "SignOff",
    "SodException",
    "SodRuleset",
    "System",
    "SystemsFile",
    "Waiver",
    "WaiversFile",
    "Weakening",
    "Workforce",
]
