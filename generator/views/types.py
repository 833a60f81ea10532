"""The view model types: what a page or a PDF shows, frozen and ready to present."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from ..model import Severity

SEVERITY_ORDER = tuple(Severity)

_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_-]+")


def html_id(value: str, prefix: str) -> str:
    """An HTML id (and URL fragment) for a record: ``prefix-`` and its ID with anything but
    letters, digits, dash and underscore as a dash (``GV.OC`` -> ``csf-GV-OC``)."""
    return f"{prefix}-{_NOT_IN_ID.sub('-', value).strip('-')}"


@dataclass(frozen=True)
class SourceRef:
    """Where a fact comes from: a catalog file and line, with a web link when configured."""

    path: str
    line: int
    url: str | None

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class PersonView:
    id: str
    name: str
    title: str
    kind: str
    active: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class FindingView:
    rule: str
    rule_name: str
    severity: str
    open: bool
    control: str | None
    owner: str
    subject: str
    message: str
    hint: str
    source: SourceRef
    waiver: str | None
    notes: tuple[str, ...]
    anchor: str = ""
    """The finding's row on the findings page (``f-`` and its fingerprint), for links."""


@dataclass(frozen=True)
class OwnershipView:
    person: PersonView
    since: date
    until: date | None
    in_period: bool
    valid: bool


@dataclass(frozen=True)
class RoleView:
    role: str
    person: PersonView | None


@dataclass(frozen=True)
class PopulationView:
    id: str
    name: str
    system: str
    account_types: tuple[str, ...]
    selection: str
    special: bool


@dataclass(frozen=True)
class EvidenceView:
    """The population extract of a review (IPE) and whether it still matches."""

    system: str
    source: str
    extracted_at: str
    records: str
    file: str
    sha256: str
    verified: bool | None


@dataclass(frozen=True)
class ReviewView:
    id: str
    population: str
    period: str
    due: date
    completed: date | None
    status: str
    on_time: bool
    reviewers: tuple[PersonView, ...]
    evidence: EvidenceView | None
    items: int
    kept: int
    revoked: int
    modified: int
    undecided: int
    remediation: str
    findings: int
    source: SourceRef
    decisions: tuple[DecisionView, ...] = ()
    """The review's items listed on its page, in file order: all of them up to
    :data:`ALL_DECISIONS_MAX`, else those that are not keeps; at most :data:`LISTED`."""
    keeps_not_listed: int = 0
    """Keep decisions not listed (a review of more than :data:`ALL_DECISIONS_MAX` items)."""
    items_file: str = ""
    """The CSV that holds every decision of the review (empty: ``items:`` in its YAML)."""


@dataclass(frozen=True)
class MappingView:
    framework: str
    id: str
    title: str
    valid: bool


@dataclass(frozen=True)
class ExceptionView:
    id: str
    person: PersonView
    ruleset: str
    conflict: str
    requester: str
    approver: str
    business_owner: str
    control_owner: str
    justification: str
    compensating_control: str
    granted: date
    expires: date | None
    age_days: int
    status: str
    source: SourceRef


@dataclass(frozen=True)
class ControlView:
    id: str
    title: str
    objective: str
    risk: str
    key: bool
    nature: str
    automation: str
    frequency: str
    owner: PersonView | None
    owner_history: tuple[OwnershipView, ...]
    executor: PersonView | None
    roles: tuple[RoleView, ...]
    systems: tuple[str, ...]
    populations: tuple[PopulationView, ...]
    approval: str
    procedure: str
    retention: str | None
    """Evidence retention as stated ("7 years", "13 months"), or None when nobody states it."""
    reviews: tuple[ReviewView, ...]
    sod_rulesets: tuple[str, ...]
    exceptions: tuple[ExceptionView, ...]
    open_findings: tuple[FindingView, ...]
    waived_findings: tuple[FindingView, ...]
    mappings: tuple[MappingView, ...]
    not_assessed: tuple[str, ...]
    status: str
    worst: str | None
    source: SourceRef
    source_file: str

    @property
    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.open_findings)
        return {str(s): counts.get(str(s), 0) for s in Severity}


@dataclass(frozen=True)
class ControlRow:
    """A control as the controls list shows it: one row, without its reviews."""

    id: str
    title: str
    owner: PersonView | None
    frequency: str
    key: bool
    open_count: int
    status: str


@dataclass(frozen=True)
class RuleView:
    id: str
    name: str
    family: str
    severity: str
    summary: str
    doc: str
    hint: str
    open: int
    waived: int


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str


@dataclass(frozen=True)
class PersonRolesView:
    person: PersonView
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    open_findings: tuple[FindingView, ...]
    can_own: bool

    def roles_of(self, what: str) -> tuple[str, ...]:
        return next((items for name, items in self.roles if name == what), ())


@dataclass(frozen=True)
class StateExtractView:
    """One accounts extract in a system's state at the as-of date, and what it shows."""

    file: str
    taken: str
    account_types: str


LISTED = 2000
"""Most accounts a system page lists, and most decisions a review lists on its control
page: a page says how many more there are, so the site build stays linear."""

ALL_DECISIONS_MAX = 60
"""A review with at most this many items lists every decision on its control page; a
larger one lists the decisions that change access or are missing (revoke, modify,
undecided) and points to its items file for the keeps. A quarterly user access review
of a large system holds hundreds of keeps: as page rows they made the full-size site
build ten times slower and eight times larger in memory, and read like nothing; the
accounts they keep are listed (and found by search) on the system's page."""


@dataclass(frozen=True)
class AccountView:
    """One account in a system's state at the as-of date: who is behind it (the directory
    person, or the extract's value when it names nobody), its account types and its
    entitlements, sorted."""

    account: str
    people: tuple[PersonView, ...]
    account_types: str
    entitlements: tuple[str, ...]


@dataclass(frozen=True)
class DecisionView:
    """One review item: the account (and entitlement) decided on, who is behind the account
    in the review's extract, the decision and who took it."""

    account: str
    system: str
    person: PersonView | None
    entitlement: str
    decision: str
    decided_by: PersonView | None
    remediation: str


@dataclass(frozen=True)
class SystemView:
    id: str
    name: str
    description: str
    sox_in_scope: bool
    owner: PersonView | None
    administrators: tuple[PersonView, ...]
    account_types: tuple[str, ...]
    controls: tuple[str, ...]
    state: tuple[StateExtractView, ...]
    """The accounts extracts that show who holds what at the as-of date (one per slice)."""
    findings: tuple[FindingView, ...]
    source: SourceRef
    accounts: tuple[AccountView, ...] = ()
    """The accounts in the state at the as-of date, sorted, at most :data:`LISTED`."""
    accounts_total: int = 0
    """How many accounts the state holds (more than listed when over :data:`LISTED`)."""
    accounts_note: str = ""
    """Why no account is listed although the system has a state (an unreadable extract)."""


@dataclass(frozen=True)
class ConflictView:
    person: PersonView
    ruleset: str
    duties: str
    via: str
    exception: str
    """The exception that manages the conflict at the as-of date ("ID until D"), or "" when
    none does (none recorded, expired or not yet in force: a finding says which)."""
    duty_ids: tuple[str, str] = ("", "")
    link: str = ""
    """Where the conflict is judged, relative to the site root: its exception in the
    register when one is in force, else its open finding on the findings page."""
    link_label: str = ""
    """What :attr:`link` points at ("exception SODX-2026-002", "finding SOD-3")."""


@dataclass(frozen=True)
class SodRowView:
    """One person's row of the SoD picture: a state per duty of :attr:`SodView.duties`
    ("" not held, "held", "conflict": held as one side of a conflict the person holds)."""

    person: PersonView
    cells: tuple[str, ...]
    conflicts: tuple[ConflictView, ...]


@dataclass(frozen=True)
class SodView:
    duties: tuple[tuple[str, str, str], ...]
    matrix: tuple[tuple[PersonView, tuple[bool, ...]], ...]
    conflicts: tuple[ConflictView, ...]
    rows: tuple[SodRowView, ...] = ()
    pairs: tuple[tuple[str, str, str], ...] = ()
    """The conflicting duty pairs the rule sets define: (rule set, duty, duty)."""


@dataclass(frozen=True)
class TrendPointView:
    """Open findings by severity on one day (a quarter end, or the as-of date)."""

    label: str
    day: date
    by_severity: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_severity)


@dataclass(frozen=True)
class ReviewQuarterView:
    """The reviews of one quarter of the assessed period, by the quarter of their due date:
    due by the as-of date (on time + late + missing), and those not yet due."""

    label: str
    start: date
    end: date
    on_time: int
    late: int
    missing: int
    not_yet_due: int

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missing


@dataclass(frozen=True)
class HeatCellView:
    """A CSF 2.0 category in the coverage heat map."""

    id: str
    name: str
    controls: int
    status: str
    """The worst status of its controls ("open findings", "not assessed", "clean"), or
    "not covered" when no control maps to it."""
    open_findings: int
    anchor: str
    """The category's row on the coverage page (``csf-`` and its slug)."""


@dataclass(frozen=True)
class HeatRowView:
    """A CSF 2.0 function and its categories, left to right."""

    id: str
    name: str
    cells: tuple[HeatCellView, ...]


@dataclass(frozen=True)
class BreakGlassView:
    id: str
    system: str
    account: str
    used_by: PersonView
    started: str
    ended: str
    ticket: str
    justification: str
    accepted_by: str
    reviewed_by: str
    reviewed_at: str
    status: str
    source: SourceRef
    times: tuple[tuple[str, str], ...] = ()
    """Started, ended and reviewed in UTC to the minute, as (day, time) for tables:
    ("2026-02-14", "22:10 UTC"), or ("", "") when not recorded."""


@dataclass(frozen=True)
class NhiView:
    id: str
    system: str
    account: str
    type: str
    owner: PersonView | None
    owner_ok: bool
    purpose: str
    credential_age_days: int | None
    rotation_days: int
    rotation_ok: bool
    last_interactive: str
    source: SourceRef


__all__ = [
    "ALL_DECISIONS_MAX",
    "LISTED",
    "SEVERITY_ORDER",
    "AccountView",
    "Bar",
    "BreakGlassView",
    "ConflictView",
    "ControlView",
    "DecisionView",
    "EvidenceView",
    "ExceptionView",
    "FindingView",
    "HeatCellView",
    "HeatRowView",
    "MappingView",
    "NhiView",
    "OwnershipView",
    "PersonRolesView",
    "PersonView",
    "PopulationView",
    "ReviewQuarterView",
    "ReviewView",
    "RoleView",
    "RuleView",
    "SodRowView",
    "SodView",
    "SourceRef",
    "StateExtractView",
    "SystemView",
    "TrendPointView",
]
