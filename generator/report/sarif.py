"""SARIF 2.1.0: each finding on its YAML line, so code scanning annotates pull requests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from ..evaluation.findings import Finding, fingerprint
from ..evaluation.rules import RULES, Rule
from ..model import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}


def _uri(file: str) -> str:
    """A repository-relative URI (relative to the working directory) where possible."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return Path(os.path.normpath(path)).as_posix()


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name.title().replace(" ", "").replace(",", "").replace("-", ""),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.summary},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["compliance", rule.family], "problem.severity": str(rule.severity)},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    loc = finding.location
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(loc.file)}}
    if loc.line > 0:
        physical["region"] = {"startLine": loc.line, "startColumn": max(loc.column, 1)}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _LEVEL[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.hint}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"controlbook/v1": fingerprint(finding)},
        "properties": {
            "severity": str(finding.severity),
            "control": finding.control,
            "subject": finding.subject,
        },
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if finding.waiver is not None and not finding.is_open:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"waiver {finding.waiver.id} by {finding.waiver.approver} "
                f"until {finding.waiver.expires}: {finding.waiver.reason}",
            }
        ]
    return result


def render(findings: Iterable[Finding], rules: tuple[Rule, ...] = RULES) -> str:
    index = {r.id: i for i, r in enumerate(rules)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "controlbook",
                        "version": __version__,
                        "informationUri": "https://controlbook.dev/",
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": [_result(f, index) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
