"""SailPoint Identity Security Cloud (IdentityNow) certification campaign reports: the
decisions, remediation and sign-off of one campaign, read from the CSV reports an
administrator downloads under Admin > Certifications > Campaigns > Download Reports.

Three reports, each recognised by its header (one or more files of each, e.g. pages):

* **Campaign Status Report** ("the status of all access items in the campaign"): one row
  per identity and access item, with the reviewer, the decision and its date, comments.
  Decisions are *Approve* and *Revoke* (the certification UI), *Acknowledge* for a role
  assigned by membership criteria, and *Maintain* for undecided items an administrator
  kept when completing the campaign; empty (or *Pending*) is undecided.
* **Campaign Remediation Status Report** ("available after an administrator has completed
  a campaign. It contains the current state of any items that were disapproved"): the
  revoked items with the state of their removal, when it completed and the work item.
* **Certification Sign Off Report** ("lists each active and completed certification"):
  one row per reviewer's certification, whether and when it was signed off, and how many
  of its decisions were made (the API's ``CertificationSignedOffCertification``: reviewer,
  signed, decisions_made, decisions_total).

Documentation used (the column names are the report's, matched case- and
space-insensitively; where SailPoint's pages and API models use another name for the
same column, that name is accepted too, see :data:`COLUMNS`):

* https://documentation.sailpoint.com/saas/help/certs/campaign_status_reports.html
  (the reports, how to download them; "Uncorrelated accounts are not included in
  certification campaigns"; the Campaign Exclusion Report is off by default)
* https://documentation.sailpoint.com/saas/help/certs/completing_campaigns.html
  (completing a campaign: maintain or revoke the remaining undecided items)
* https://documentation.sailpoint.com/saas/user-help/certifications.html
  (Approve / Revoke / Acknowledge, comments, sign-off)
* https://developer.sailpoint.com/docs/tools/sdk/python/v2025/models/access-review-item
  (review item: identity, access, decision APPROVE / REVOKE / ACKNOWLEDGE, comments)
* https://developer.sailpoint.com/docs/tools/sdk/python/v2024/models/certification-signed-off-certification
  (reviewer, signed, decisions_made, decisions_total)

This module only *reads* the reports (:func:`read_reports`); :mod:`.sailpoint_review`
turns them into the review's items file and edits the review.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from ...diagnostics import Location, did_you_mean, invisible_characters
from ...model import Decision
from ...model.base import Record
from .core import ImportFormatError, decode, numbered, parse_timestamp

FORMAT = "sailpoint-campaign"
VERSION = 1


class Report(StrEnum):
    STATUS = "Campaign Status Report"
    REMEDIATION = "Campaign Remediation Status Report"
    SIGN_OFF = "Certification Sign Off Report"

    @property
    def slug(self) -> str:
        return {
            Report.STATUS: "campaign-status",
            Report.REMEDIATION: "campaign-remediation-status",
            Report.SIGN_OFF: "certification-sign-off",
        }[self]


# logical column -> the header names that mean it (first: the one the fixtures use)
COLUMNS: dict[str, tuple[str, ...]] = {
    "campaign": ("Campaign Name",),
    "certification": ("Certification Name", "Certification"),
    "reviewer": ("Reviewer Name", "Reviewer"),
    "reviewer_email": ("Reviewer Email",),
    "identity": ("Identity Name", "Identity"),
    "identity_display": ("Identity Display Name",),
    "access_type": ("Access Type", "Access Item Type"),
    "access": ("Access Item", "Access Item Name", "Access Name", "Entitlement"),
    "source": ("Source Name", "Source", "Application"),
    "account": ("Account Name", "Native Identity", "Account"),
    "decision": ("Decision",),
    "decided_at": ("Decision Date", "Decided On"),
    "comment": ("Comments", "Comment", "Reviewer Comments"),
    "remediation_status": ("Remediation Status",),
    "remediation_completed": ("Remediation Completed Date", "Completion Date", "Date Completed"),
    "ticket": ("Work Item ID", "Remediation ID", "Ticket ID", "Ticket"),
    "signed": ("Signed Off", "Sign Off Status"),
    "signed_at": ("Sign Off Date", "Signed Off Date"),
    "decisions_made": ("Decisions Made",),
    "decisions_total": ("Total Decisions", "Decisions Total"),
}

REQUIRED: dict[Report, tuple[str, ...]] = {
    Report.STATUS: (
        "campaign",
        "reviewer",
        "identity",
        "access",
        "source",
        "account",
        "decision",
        "decided_at",
    ),
    Report.REMEDIATION: (
        "campaign",
        "identity",
        "access",
        "source",
        "account",
        "remediation_status",
        "remediation_completed",
    ),
    Report.SIGN_OFF: ("campaign", "certification", "reviewer", "signed", "signed_at"),
}
"""What each report must have; a report is recognised by its distinctive column
(decision, remediation status, signed off) and then must have all of these."""

DECISIONS: dict[str, Decision | None] = {
    "approve": Decision.KEEP,
    "approved": Decision.KEEP,
    "acknowledge": Decision.KEEP,
    "acknowledged": Decision.KEEP,
    "maintain": Decision.KEEP,
    "maintained": Decision.KEEP,
    "revoke": Decision.REVOKE,
    "revoked": Decision.REVOKE,
    "": None,
    "pending": None,
    "undecided": None,
}
"""SailPoint's decision words -> the catalog's. SailPoint has no "modify": a reviewer who
wants less access revokes the entitlement (a role change is a new access request)."""

COMPLETED = frozenset({"completed", "complete", "remediated", "revoked", "removed"})
NOT_COMPLETED = frozenset({"pending", "open", "in progress", "failed", "error", "not started"})
YES = frozenset({"yes", "true", "signed", "signed off", "signed-off"})
NO = frozenset({"no", "false", "", "not signed", "not signed off", "active", "pending"})


class CampaignMapping(Record):
    """``--mapping FILE`` of a campaign import (YAML)."""

    people: dict[str, str] = Field(
        default_factory=dict,
        description="Reviewer (name, identity name or e-mail as the report writes it) -> "
        "directory person ID, for reviewers the directory knows under another name.",
    )
    systems: dict[str, str] = Field(
        default_factory=dict,
        description="SailPoint source name -> system ID (default: the review's one system).",
    )


@dataclass(frozen=True)
class StatusRow:
    where: Location
    campaign: str
    reviewer: str
    reviewer_email: str
    identity: str
    access: str
    source: str
    account: str
    decision: Decision | None
    decision_word: str
    decided_at: datetime | None
    comment: str


@dataclass(frozen=True)
class RemediationRow:
    where: Location
    campaign: str
    identity: str
    access: str
    source: str
    account: str
    completed: date | None
    status: str
    ticket: str


@dataclass(frozen=True)
class SignOffRow:
    where: Location
    campaign: str
    certification: str
    reviewer: str
    reviewer_email: str
    signed_at: datetime | None
    decisions_made: int | None
    decisions_total: int | None


@dataclass
class Campaign:
    """Everything the reports of one campaign say."""

    status: list[StatusRow] = field(default_factory=list)
    remediation: list[RemediationRow] = field(default_factory=list)
    sign_off: list[SignOffRow] = field(default_factory=list)
    files: list[tuple[Report, Path, bytes]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        rows: Sequence[StatusRow | RemediationRow | SignOffRow] = [
            *self.status,
            *self.remediation,
            *self.sign_off,
        ]
        return sorted({r.campaign for r in rows if r.campaign})


def _key(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower())


_ALIASES = {_key(name): logical for logical, names in COLUMNS.items() for name in names}


def recognise(header: list[str], shown: str) -> tuple[Report, dict[str, int]]:
    """Which report a header is, and the position of each logical column in it."""
    where = Location(shown, 1, 1)
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        logical = _ALIASES.get(_key(name))
        if logical is not None:
            if logical in positions:
                raise ImportFormatError(where, f"two columns mean {COLUMNS[logical][0]!r}")
            positions[logical] = index
    if "remediation_status" in positions:
        report = Report.REMEDIATION
    elif "signed" in positions:
        report = Report.SIGN_OFF
    elif "decision" in positions:
        report = Report.STATUS
    else:
        expected = "; ".join(
            f"{r.value}: {', '.join(COLUMNS[c][0] for c in REQUIRED[r])}" for r in Report
        )
        raise ImportFormatError(
            where,
            "not a SailPoint campaign report (none of Decision, Remediation Status, Signed "
            f"Off is a column). Expected the header of one of: {expected}",
        )
    missing = [COLUMNS[c][0] for c in REQUIRED[report] if c not in positions]
    if missing:
        raise ImportFormatError(
            where, f"a {report.value} without the column(s) {', '.join(missing)}"
        )
    return report, positions


def parse_moment(text: str, where: Location, what: str) -> datetime | None:
    """A report's time: ISO 8601 (``2026-07-13T17:17:33Z``) or ``MM/DD/YYYY HH:MM[:SS]``
    (GMT, as the report pages say); a bare date is midnight UTC; empty is None."""
    value = text.strip()
    if not value:
        return None
    moment = parse_timestamp(value)
    if moment is not None:
        return moment
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ImportFormatError(
        where, f"{what} {value!a} is not a date (2026-07-13T17:17:33Z or 07/13/2026 17:17:33)"
    )


def _count(text: str, where: Location, what: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.isdigit():
        raise ImportFormatError(where, f"{what} {value!a} is not a number")
    return int(value)


def read_report(raw: bytes, path: Path, campaign: Campaign) -> Report:
    """Add one report file to ``campaign``; refuse anything that is not one of the three."""
    shown = str(path)
    text = decode(raw, shown)
    rows = numbered(csv.reader(io.StringIO(text, newline="")), shown)
    first = next(rows, None)
    if first is None or not any(v.strip() for v in first[1]):
        raise ImportFormatError(Location(shown, 1, 1), "empty file: no header")
    report, positions = recognise(first[1], shown)
    width = len(first[1])
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue
        where = Location(shown, line, 1)
        if len(values) != width:
            raise ImportFormatError(
                where, f"{len(values)} values where the header has {width} columns"
            )
        for value in values:
            if hidden := invisible_characters(value):
                raise ImportFormatError(where, f"{value.strip()!a} holds {', '.join(hidden)}")

        def get(column: str, values: list[str] = values) -> str:
            index = positions.get(column)
            return values[index].strip() if index is not None else ""

        if report is Report.STATUS:
            word = get("decision")
            if word.lower() not in DECISIONS:
                hint = did_you_mean(word.capitalize(), ["Approve", "Revoke", "Acknowledge"])
                raise ImportFormatError(
                    where,
                    f"unknown decision {word!a}{hint} (SailPoint decides Approve, Revoke, "
                    "Acknowledge, or Maintain when a campaign is completed)",
                )
            if not get("account"):
                raise ImportFormatError(
                    where,
                    f"access item {get('access')!a} of {get('identity')!a} names no account; "
                    "the import reads entitlement items (an account holding an entitlement)",
                )
            campaign.status.append(
                StatusRow(
                    where,
                    get("campaign"),
                    get("reviewer"),
                    get("reviewer_email"),
                    get("identity"),
                    get("access"),
                    get("source"),
                    get("account"),
                    DECISIONS[word.lower()],
                    word,
                    parse_moment(get("decided_at"), where, "Decision Date"),
                    get("comment"),
                )
            )
        elif report is Report.REMEDIATION:
            state = get("remediation_status")
            if state.lower() not in COMPLETED | NOT_COMPLETED:
                raise ImportFormatError(
                    where, f"unknown Remediation Status {state!a} (Completed, Pending, Failed)"
                )
            moment = parse_moment(get("remediation_completed"), where, "completion date")
            if state.lower() in COMPLETED and moment is None:
                raise ImportFormatError(where, f"Remediation Status {state} without a date")
            campaign.remediation.append(
                RemediationRow(
                    where,
                    get("campaign"),
                    get("identity"),
                    get("access"),
                    get("source"),
                    get("account"),
                    moment.date() if moment is not None and state.lower() in COMPLETED else None,
                    state,
                    get("ticket"),
                )
            )
        else:
            signed = get("signed").lower()
            if signed not in YES | NO:
                raise ImportFormatError(where, f"Signed Off {get('signed')!a} is not Yes or No")
            moment = parse_moment(get("signed_at"), where, "Sign Off Date")
            if signed in YES and moment is None:
                raise ImportFormatError(where, "signed off without a Sign Off Date")
            campaign.sign_off.append(
                SignOffRow(
                    where,
                    get("campaign"),
                    get("certification"),
                    get("reviewer"),
                    get("reviewer_email"),
                    moment if signed in YES else None,
                    _count(get("decisions_made"), where, "Decisions Made"),
                    _count(get("decisions_total"), where, "Total Decisions"),
                )
            )
    campaign.files.append((report, path, raw))
    return report


def read_reports(files: Sequence[tuple[Path, bytes]]) -> Campaign:
    """All the reports of one campaign; a Campaign Status Report is required, and every
    file must be of the same campaign."""
    campaign = Campaign()
    for path, raw in files:
        read_report(raw, path, campaign)
    if not campaign.status:
        raise ImportFormatError(
            Location(str(files[0][0])),
            "no Campaign Status Report among the files (or it has no rows): the decisions "
            "come from it",
        )
    if len(campaign.names) > 1:
        raise ImportFormatError(
            Location(str(files[0][0])),
            f"the reports are of several campaigns ({', '.join(map(repr, campaign.names))}); "
            "import one campaign into one review",
        )
    return campaign
