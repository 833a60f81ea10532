"""Catalog-wide settings (``kind: settings``): the organisation, period and policy."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from .base import MAX_DAYS, Day, Period, Prose, Record, Severity
from .retention import MAX_RETENTION_MONTHS, MAX_RETENTION_YEARS
from .urls import WebUrl


class Weakening(StrEnum):
    """A change to the catalog that weakens a control (reported by ``controlbook diff``)."""

    CONTROL_REMOVED = "control-removed"
    FREQUENCY_WEAKENED = "frequency-weakened"
    POPULATION_REMOVED = "population-removed"
    RETENTION_SHORTENED = "retention-shortened"
    MAPPING_REMOVED = "mapping-removed"
    SOD_RULESET_REMOVED = "sod-ruleset-removed"
    EXCEPTION_EXTENDED = "exception-extended"
    POLICY_RELAXED = "policy-relaxed"


DEFAULT_BLOCK_ON = [
    Weakening.CONTROL_REMOVED,
    Weakening.FREQUENCY_WEAKENED,
    Weakening.POPULATION_REMOVED,
    Weakening.RETENTION_SHORTENED,
    Weakening.EXCEPTION_EXTENDED,
]
"""Weakenings that fail a pull request unless the settings say otherwise."""


class Settings(Record):
    """One per catalog, usually ``catalog.yaml``."""

    kind: Literal["settings"]
    organisation: Prose = Field(description="Company name shown on every page.")
    period: Period = Field(description="The assessed period (e.g. the fiscal year).")
    as_of: Day | None = Field(
        default=None, description="Default as-of date of evaluation; pin it for reproducibility."
    )
    evidence_retention_years: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETENTION_YEARS,
        description="Default evidence retention in years; without it (here or on the control) EVD-3.",
    )
    evidence_retention_months: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETENTION_MONTHS,
        description="The default retention in months instead of years (not with it).",
    )
    evidence_retention_minimum_months: int | None = Field(
        default=None,
        ge=1,
        le=MAX_RETENTION_MONTHS,
        description="The policy minimum in months (e.g. 84 for seven years); a control that "
        "states less is EVD-3. Default: the settings' own retention.",
    )
    sample_sizes: dict[
        Literal[
            "annual",
            "semi-annual",
            "quarterly",
            "monthly",
            "weekly",
            "daily",
            "continuous",
            "event-driven",
            "population",
        ],
        Annotated[int, Field(ge=1, le=1000)],
    ] = Field(
        default_factory=dict,
        description="Audit sample sizes by control frequency, and 'population' for the items "
        "of a review (controlbook sample). Defaults: annual 1, quarterly 2, monthly 2, "
        "weekly 5, daily 25, population 25.",
    )
    fail_on: Severity = Field(
        default=Severity.HIGH, description="CI fails on open findings at or above this."
    )
    max_exception_days: int = Field(
        default=365,
        ge=1,
        le=MAX_DAYS,
        description="Longest SoD exception the policy allows (EXC-2).",
    )
    break_glass_review_days: int = Field(
        default=2,
        ge=0,
        le=MAX_DAYS,
        description="Days after use by which break-glass must be reviewed.",
    )
    remediation_sla_days: int = Field(
        default=30,
        ge=0,
        le=MAX_DAYS,
        description="Days after a revoke decision to remove access (REM-1).",
    )
    review_due_days: int = Field(
        default=30,
        ge=0,
        le=MAX_DAYS,
        description="Default days after period end a review is due (CAD-1).",
    )
    nhi_rotation_days: int = Field(
        default=90, ge=1, le=MAX_DAYS, description="Default credential rotation policy (NHI-2)."
    )
    repo_url: WebUrl | None = Field(
        default=None,
        description="Web URL of the repository folder of the catalog, for source links.",
    )
    block_on: list[Weakening] = Field(
        default=DEFAULT_BLOCK_ON,
        description="Weakenings that make `controlbook diff` fail (exit 1): control-removed (a "
        "control deleted), frequency-weakened (e.g. quarterly to annual), population-removed (a "
        "privileged, service, break-glass or third-party population no longer reviewed), "
        "retention-shortened, mapping-removed (a framework mapping dropped), "
        "sod-ruleset-removed, exception-extended (a SoD exception's expiry later or removed), "
        "policy-relaxed (fail_on raised or a kind dropped from block_on). A review takes "
        "fail_on and block_on from BASE, never from the change it judges, and policy-relaxed "
        "always blocks there. An empty list reports weakenings without failing.",
    )
    classification: Prose = Field(
        default="Internal", description="Classification printed on every document."
    )
    signing_key: str | None = Field(
        default=None,
        description="PKCS#12 file (.p12/.pfx) that signs the PDF narratives, outside the "
        "repository (absolute or ~ path). Its passphrase comes only from the environment "
        "variable CONTROLBOOK_SIGNING_PASSPHRASE; CONTROLBOOK_SIGNING_KEY overrides this "
        "setting. Without a key, a local development certificate signs and every PDF says so.",
    )
    timestamp_url: WebUrl | None = Field(
        default=None,
        description="Not read: signing refuses a catalog that sets it, since whoever edits "
        "the catalog could make every build send requests to any address. Set the RFC 3161 "
        "timestamp authority in the environment variable CONTROLBOOK_TSA_URL of the build "
        "instead (narratives are then signed PAdES B-T instead of B-B).",
    )
