"""Compare two evaluated catalogs: what changed in each control and SoD exception, which
findings a change introduces and which it resolves.

Records are matched by ID and compared on their values, so renaming a file or
reordering its keys is not a change. Owners are compared as the owner in force on
the evaluation's as-of date. A change that weakens a control (cadence, populations,
retention, mappings, SoD rule sets, a deleted control, a longer SoD exception)
carries its :class:`~generator.model.Weakening`; whether it blocks a pull request
is the settings' ``block_on`` (see :mod:`generator.diff.review`).
"""

from .compare import compare, diff_findings
from .controls import FREQUENCY_RANK, SENSITIVE_ACCOUNT_TYPES, control_changes
from .types import (
    ChangeKind,
    Comparison,
    ControlDelta,
    DeltaStatus,
    ExceptionChange,
    ExceptionDelta,
    FieldChange,
    FindingsDelta,
    SettingChange,
)

__all__ = [
    "FREQUENCY_RANK",
    "SENSITIVE_ACCOUNT_TYPES",
    "ChangeKind",
    "Comparison",
    "ControlDelta",
    "DeltaStatus",
    "ExceptionChange",
    "ExceptionDelta",
    "FieldChange",
    "FindingsDelta",
    "SettingChange",
    "compare",
    "control_changes",
    "diff_findings",
]
