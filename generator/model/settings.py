"""Catalog-wide settings (``kind: settings``): the organisation, period and policy."""

from datetime import date
from typing import Literal

from pydantic import Field

from .base import Period, Record, Severity


class Settings(Record):
    """One per catalog, usually ``catalog.yaml``."""

    kind: Literal["settings"]
    organisation: str = Field(description="Company name shown on every page.")
    period: Period = Field(description="The assessed period (e.g. the fiscal year).")
    as_of: date | None = Field(
        default=None, description="Default as-of date of evaluation; pin it for reproducibility."
    )
    evidence_retention_years: int | None = Field(
        default=None,
        ge=0,
        description="Default evidence retention in years; without it (here or on the control) EVD-3.",
    )
    fail_on: Severity = Field(
        default=Severity.HIGH, description="CI fails on open findings at or above this."
    )
    max_exception_days: int = Field(
        default=365, ge=1, description="Longest SoD exception the policy allows (EXC-2)."
    )
    break_glass_review_days: int = Field(
        default=2, ge=0, description="Days after use by which break-glass must be reviewed."
    )
    remediation_sla_days: int = Field(
        default=30, ge=0, description="Days after a revoke decision to remove access (REM-1)."
    )
    review_due_days: int = Field(
        default=30, ge=0, description="Default days after period end a review is due (CAD-1)."
    )
    nhi_rotation_days: int = Field(
        default=90, ge=1, description="Default credential rotation policy (NHI-2)."
    )
    repo_url: str | None = Field(
        default=None,
        description="Web URL of the repository folder of the catalog, for source links.",
    )
    classification: str = Field(
        default="Internal", description="Classification printed on every document."
    )
