"""Access reviews: the evidence that a control operated."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from ..diagnostics import Location
from .base import (
    ControlRef,
    Day,
    Id,
    Period,
    PersonRef,
    Prose,
    Record,
    RelPath,
    Sha256,
    SystemRef,
    Timestamp,
)
from .systems import Extract


class Decision(StrEnum):
    KEEP = "keep"
    REVOKE = "revoke"
    MODIFY = "modify"

    @property
    def needs_remediation(self) -> bool:
        return self is not Decision.KEEP


class Remediation(Record):
    """How a revoke or modify decision was carried out (EVD-1, REM-1)."""

    ticket: str | None = Field(default=None, description="Change or access ticket reference.")
    completed: Day | None = Field(default=None, description="When the access was changed.")


ITEMS_COLUMNS = (
    "account",
    "system",
    "entitlement",
    "decision",
    "decided_by",
    "decided_at",
    "comment",
    "remediation_ticket",
    "remediation_completed",
)
"""The columns of a review's items CSV (``items_file``), in the order writers put them. A
file may hold them in any order and leave out :data:`ITEMS_OPTIONAL_COLUMNS`; an empty
cell is a value not given. ``remediation_ticket`` and ``remediation_completed`` are
:class:`Remediation`'s ``ticket`` and ``completed``."""

ITEMS_OPTIONAL_COLUMNS = frozenset(
    {"system", "entitlement", "comment", "remediation_ticket", "remediation_completed"}
)


class ReviewItem(Record):
    """One decision on one account (or one entitlement of it)."""

    account: str = Field(description="Account ID as in the extract.")
    system: SystemRef | None = Field(
        default=None,
        description="The account's system, for a review over several systems (default: the "
        "population's system).",
    )
    entitlement: str | None = Field(
        default=None, description="The entitlement decided on; empty means the whole account."
    )
    decision: Decision | None = Field(default=None, description="keep, revoke or modify (EVD-1).")
    decided_by: PersonRef | None = Field(default=None, description="Who decided (EVD-1, SOD-1).")
    decided_at: Timestamp | None = Field(default=None, description="When (EVD-1).")
    remediation: Remediation | None = Field(
        default=None, description="For revoke / modify: ticket and completion (EVD-1, REM-1)."
    )
    comment: Prose | None = Field(default=None, description="Reviewer's comment.")


class PopulationEvidence(Extract):
    """The population as reviewed (IPE): the extract the review was run on (POP-3, EVD-2)."""

    system: SystemRef | None = Field(
        default=None, description="Source system (default: the population's system)."
    )


class Attachment(Record):
    """A supporting evidence file (sign-off e-mail, screenshot, export)."""

    file: RelPath = Field(description="Path from the catalog folder (EVD-2).")
    sha256: Sha256 | None = Field(default=None, description="Hash at sign-off (EVD-2).")
    description: Prose | None = Field(default=None, description="What the file shows.")


class ItemsFile(Record):
    """A review's decisions kept in a CSV file beside it, one row per item (columns:
    ``ITEMS_COLUMNS``), instead of ``items:`` in the YAML."""

    file: RelPath = Field(description="Path from the catalog folder to the CSV (EVD-2).")
    sha256: Sha256 = Field(description="Hash of the CSV as decided and signed off (EVD-2).")


class SignOff(Record):
    """The owner's attestation that the review is complete."""

    by: PersonRef = Field(description="Who signed off.")
    at: Timestamp = Field(description="When.")


class Review(Record):
    """One access review of one population for one period (``kind: review``)."""

    kind: Literal["review"]
    id: Id = Field(description="Stable review ID, e.g. 'UAR-ERP-2026Q1'.")
    control: ControlRef = Field(description="The control this review evidences.")
    population: Id = Field(description="ID of the control's population that was reviewed.")
    period: Period = Field(description="The period whose access was reviewed.")
    due: Day | None = Field(
        default=None, description="Due date (default: period end + the control's due days)."
    )
    started: Day | None = Field(default=None, description="When the campaign was launched.")
    completed: Day | None = Field(
        default=None, description="When the last decision was signed off; empty if still open."
    )
    reviewers: list[PersonRef] = Field(default_factory=list, description="Assigned reviewers.")
    evidence: PopulationEvidence | None = Field(
        default=None, description="The reviewed population's extract (POP-3, EVD-2)."
    )
    items: list[ReviewItem] = Field(default_factory=list, description="One per account reviewed.")
    items_file: ItemsFile | None = Field(
        default=None,
        description="The items as a CSV file (one row per decision) instead of 'items:'; "
        "the two exclude each other.",
    )
    attachments: list[Attachment] = Field(default_factory=list, description="Other evidence.")
    retain_until: date | None = Field(
        default=None, description="When the records system will destroy the evidence (EVD-3)."
    )
    sign_off: SignOff | None = Field(
        default=None,
        description="Owner's sign-off: marks the review complete, so every item must then "
        "have a decision, decided_by and decided_at (else the catalog does not validate).",
    )

    def items_loc(self) -> Location:
        """Where the review's decisions are written: its ``items_file:`` key, else its
        ``items:`` list, else its ID (a review with no decisions yet)."""
        if self.items_file is not None:
            return self.loc("items_file")
        return self.loc("items") if self.items else self.loc("id")
