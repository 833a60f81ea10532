"""Evidence retention: how long a control's evidence is kept, in whole months.

A catalog states retention in years (``evidence_retention_years: 7``) or, where policy
says so, in months (``evidence_retention_months: 13``), on a control or as the settings'
default; the settings may also state the policy minimum that no control may go below
(``evidence_retention_minimum_months``; default: the settings' own retention). EVD-3,
the pages, the PDFs and the PR review all read retention through :func:`in_months`.
"""

from __future__ import annotations

from typing import Protocol

MAX_RETENTION_YEARS = 100
MAX_RETENTION_MONTHS = 12 * MAX_RETENTION_YEARS


class StatesRetention(Protocol):
    evidence_retention_years: int | None
    evidence_retention_months: int | None


def in_months(record: StatesRetention) -> int | None:
    """The retention a control or the settings state, in months (None: not stated)."""
    if record.evidence_retention_months is not None:
        return record.evidence_retention_months
    if record.evidence_retention_years is not None:
        return 12 * record.evidence_retention_years
    return None


def describe(months: int | None) -> str | None:
    """``84`` -> "7 years", ``13`` -> "13 months"."""
    if months is None:
        return None
    if months and months % 12 == 0:
        years = months // 12
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{months} month{'s' if months != 1 else ''}"
