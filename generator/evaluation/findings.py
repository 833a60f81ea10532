"""Findings: what evaluation reports, with the exact place that causes each one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from ..diagnostics import Location
from ..model import Severity


class Status(StrEnum):
    OPEN = "open"
    WAIVED = "waived"


@dataclass(frozen=True)
class Gap:
    """What a rule yields: the engine turns it into a :class:`Finding` with the rule's ID.

    ``severity`` and ``hint`` override the rule's defaults for this one gap.
    """

    control: str | None
    subject: str
    message: str
    location: Location
    severity: Severity | None = None
    hint: str | None = None


@dataclass(frozen=True)
class NotAssessed:
    """Something a run could not judge, and why: "not assessed, because…" is an answer,
    silence is not. Rules yield these beside their gaps when the evidence they need is
    missing (e.g. no accounts extract of a system after a leaver's last day)."""

    control: str | None
    text: str
    rule: str | None = None
    missing_evidence: bool = True
    """False for what the calendar explains (a review not due yet): no evidence is missing."""

    def __str__(self) -> str:
        return f"{self.control}: {self.text}" if self.control else self.text


@dataclass(frozen=True)
class WaiverRef:
    """The waiver that hides a finding (or that expired and no longer does)."""

    id: str
    approver: str | None
    expires: date | None
    reason: str | None
    location: Location


@dataclass(frozen=True)
class Finding:
    """One gap found by one rule, where it is, and whether a waiver hides it."""

    rule: str
    severity: Severity
    control: str | None
    subject: str
    message: str
    hint: str
    location: Location
    status: Status = Status.OPEN
    waiver: WaiverRef | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def family(self) -> str:
        return self.rule.split("-", 1)[0]

    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        """Deterministic order: control, file position, rule, subject."""
        loc = self.location
        return (self.control or "~", loc.file, loc.line, loc.column, self.rule, self.subject)


def fingerprint(finding: Finding) -> str:
    """A finding's identity, stable across line moves: rule, control and subject. The PR
    review matches findings by it; SARIF carries it as the partial fingerprint."""
    key = f"{finding.rule}|{finding.control or ''}|{finding.subject}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
