"""In-scope systems and the account extracts that say who has access to them."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Day, Id, PersonRef, Prose, Record, RelPath, Sha256, SystemRef, Timestamp


class AccountType(StrEnum):
    """The kinds of account auditors expect to see reviewed as separate populations."""

    EMPLOYEE = "employee"
    PRIVILEGED = "privileged"
    SERVICE = "service"
    BREAK_GLASS = "break-glass"
    THIRD_PARTY = "third-party"

    @property
    def label(self) -> str:
        return {
            "employee": "employee",
            "privileged": "privileged",
            "service": "service account / NHI",
            "break-glass": "break-glass",
            "third-party": "third-party",
        }[self.value]


class ExtractKind(StrEnum):
    """What an extract is, which decides what it may be used for."""

    ACCOUNTS = "accounts"
    """A snapshot of who holds what (part of) a system at one moment: its *state*."""
    REPORT = "report"
    """Derived from account data (SoD duty holders, a role matrix): evidence for its own
    review only, never the state of a system."""
    EVENTS = "events"
    """Changes over a time span (joiners, movers and leavers; a sign-in log): evidence for
    its own review only; an account removed before it was run may still appear in it."""


EXTRACT_COLUMNS = ("account", "person", "account_type", "entitlement")
SYSTEM_COLUMN = "system"
"""First column of an extract that spans several systems: ``system,account,person,…``."""
"""Required header of an account extract CSV: one row per account and entitlement."""

IMPORTER_PATTERN = r"^[a-z0-9][a-z0-9-]*/[0-9]+$"
"""An importer and its version, as ``controlbook import`` records it: ``k8s-rbac/1``."""


class RawFile(Record):
    """A file kept unchanged in the catalog, with its sha256 when it was stored."""

    file: RelPath = Field(description="Path from the catalog folder.")
    sha256: Sha256 = Field(description="sha256 of the file when it was stored (EVD-2).")


class DerivedFrom(Record):
    """Where an imported extract came from: the raw export(s) as the tool wrote them, and
    the importer (and mapping) that normalised them. ``check`` re-derives the extract from
    these and reports EVD-2 when they no longer give the same file."""

    importer: Annotated[str, StringConstraints(pattern=IMPORTER_PATTERN)] = Field(
        description="Importer name and version, e.g. 'aws-credential-report/1'."
    )
    raw: list[RawFile] = Field(
        min_length=1, description="The raw export, unchanged (several for a paged export)."
    )
    mapping: RawFile | None = Field(
        default=None, description="The mapping the importer applied (a JSON copy)."
    )
    details: RawFile | None = Field(
        default=None,
        description="The importer's details sidecar: last use, rotation and expiry of each "
        "account's credentials, and interactive sign-ins (NHI-2, NHI-3).",
    )


class Extract(Record):
    """An account extract (IPE): who had which access in a system at one moment.

    The CSV has the header ``account,person,account_type,entitlement`` and one row
    per account and entitlement. The recorded ``records`` and ``sha256`` are what
    the extract had when it was taken; evaluation re-hashes the file (EVD-2).
    """

    file: RelPath | None = Field(default=None, description="Path of the CSV, from the catalog.")
    source: str | None = Field(
        default=None, description="Report, query or tool that produced it (POP-3)."
    )
    extracted_at: Timestamp | None = Field(default=None, description="When it was taken (POP-3).")
    records: int | None = Field(default=None, ge=0, description="Number of data rows (POP-3).")
    sha256: Sha256 | None = Field(default=None, description="sha256 of the file (POP-3, EVD-2).")
    kind: ExtractKind = Field(
        default=ExtractKind.ACCOUNTS,
        description="accounts (a snapshot: the state of the system), report (derived, e.g. "
        "SoD duty holders) or events (e.g. joiners and leavers). Only accounts extracts show "
        "who holds access for SOD-3, EXC-3, LVR-1, POP-2 and REM-1.",
    )
    scope: list[AccountType] = Field(
        default_factory=list,
        description="The account types the extract covers, e.g. [break-glass] for a PAM "
        "vault export; empty: the whole system. The state of a system is the newest "
        "accounts extract of each account type, taken together.",
    )

    systems: list[SystemRef] = Field(
        default_factory=list,
        description="The systems the extract covers, for one report over several (e.g. an IGA "
        "privileged-entitlement report); its CSV then starts with a system column "
        "(system,account,person,account_type,entitlement). Default: the system it is listed "
        "under, or the review's.",
    )
    derived_from: DerivedFrom | None = Field(
        default=None,
        description="Written by `controlbook import`: the raw export kept unchanged, its "
        "sha256 and the importer that normalised it; check re-derives the file (EVD-2).",
    )

    @property
    def covers(self) -> frozenset[AccountType]:
        """The account types this extract shows the state of (all when no scope is given)."""
        return frozenset(self.scope) if self.scope else frozenset(AccountType)


class AdministratorTerm(Record):
    """Someone who administered a system for a while (SOD-2 judges the decision date)."""

    person: PersonRef = Field(description="The administrator.")
    since: Day = Field(description="First day in the role.")
    until: Day | None = Field(default=None, description="Last day in the role; empty: still.")

    def on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


class System(Record):
    """A system whose access is controlled, with its owner and administrators."""

    id: Id = Field(description="Stable ID, e.g. 'erp'.")
    name: str = Field(description="Display name.")
    description: Prose | None = Field(default=None, description="What the system does.")
    sox_in_scope: bool = Field(description="Whether the system is in SOX scope (POP-2).")
    owner: PersonRef | None = Field(default=None, description="System owner (a person).")
    administrators: list[PersonRef] = Field(
        default_factory=list,
        description="People who administer the system; they may not review it (SOD-2).",
    )
    administrator_history: list[AdministratorTerm] = Field(
        default_factory=list,
        description="Administrators with their dates in the role, e.g. one who left the role "
        "in April still may not decide a review in March (SOD-2).",
    )

    def administrators_on(self, day: date) -> set[str]:
        """Who administered the system on ``day``: the undated list, and the terms in force."""
        return set(self.administrators) | {
            t.person for t in self.administrator_history if t.on(day)
        }

    account_types: list[AccountType] = Field(
        default_factory=list,
        description="Kinds of accounts the system has. Each non-employee kind needs a named "
        "review population (POP-2).",
    )
    extracts: list[Extract] = Field(
        default_factory=list,
        description="Account extracts not tied to one review, e.g. after remediation (REM-1).",
    )


class SystemsFile(Record):
    """A file listing systems (``kind: systems``)."""

    kind: Literal["systems"]
    systems: list[System] = Field(description="The systems.")
