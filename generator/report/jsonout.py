"""The JSON report: a documented, versioned structure (``format: controlbook-findings``).

Version 1 fields: ``format``, ``version``, ``tool`` {name, version}, ``organisation``,
``as_of``, ``period`` {start, end}, ``summary`` {open, waived, by_severity, threshold,
failing}, ``findings`` [{rule, name, severity, status, control, subject, message,
hint, location {file, line, column}, waiver, notes}], ``not_assessed`` [text],
``rules`` [{id, name, family, severity}]. Fields are only ever added within a version.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..evaluation.evaluate import Evaluation
from ..evaluation.findings import Finding
from ..evaluation.rules import RULES_BY_ID
from ..model import Severity

FORMAT = "controlbook-findings"
VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    rule = RULES_BY_ID.get(finding.rule)
    waiver = finding.waiver
    return {
        "rule": finding.rule,
        "name": rule.name if rule else "Internal error",
        "severity": str(finding.severity),
        "status": str(finding.status),
        "control": finding.control,
        "subject": finding.subject,
        "message": finding.message,
        "hint": finding.hint,
        "location": {
            "file": finding.location.file,
            "line": finding.location.line,
            "column": finding.location.column,
        },
        "waiver": None
        if waiver is None
        else {
            "id": waiver.id,
            "approver": waiver.approver,
            "expires": waiver.expires.isoformat() if waiver.expires else None,
            "reason": waiver.reason,
        },
        "notes": list(finding.notes),
    }


def report(evaluation: Evaluation, threshold: Severity) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": "controlbook", "version": __version__},
        "organisation": evaluation.organisation,
        "as_of": evaluation.as_of.isoformat(),
        "period": {
            "start": evaluation.period.start.isoformat(),
            "end": evaluation.period.end.isoformat(),
        },
        "summary": {
            "open": len(evaluation.open),
            "waived": len(evaluation.waived),
            "by_severity": {str(s): n for s, n in evaluation.by_severity().items()},
            "threshold": str(threshold),
            "failing": len(evaluation.failing(threshold)),
        },
        "findings": [finding_dict(f) for f in evaluation.findings],
        "not_assessed": [str(note) for note in evaluation.not_assessed],
        "rules": [
            {"id": r.id, "name": r.name, "family": r.family, "severity": str(r.severity)}
            for r in evaluation.rules
        ],
    }


def render(evaluation: Evaluation, threshold: Severity) -> str:
    return json.dumps(report(evaluation, threshold), indent=2, ensure_ascii=False) + "\n"
