"""The review of a change as JSON: a documented, versioned structure (``format: controlbook-diff``).

Version 1 fields:

* ``format``, ``version``, ``tool`` {name, version};
* ``catalog`` (the catalog folder's path in the repository), ``as_of``;
* ``base`` {revision, commit, readable, problem, diagnostics [text]}: ``readable`` is
  false when BASE could not be read or is invalid, and then ``comparison`` is null;
* ``head`` {revision, commit (null for the working tree), open, failing}: HEAD's open
  findings and those at or above the threshold (counts);
* ``policy`` {threshold, block_on [weakening kinds], threshold_from, block_on_from}:
  where each came from, ``command-line``, ``base`` (BASE's settings) or ``defaults``
  (no BASE catalog: the built-in defaults tightened by HEAD's settings);
* ``summary`` {failed, exit_code, headline, introduced, resolved, failing
  [findings], blocking_controls [IDs], blocking_exceptions [IDs], blocking_settings
  [setting names]}: ``failing`` lists
  introduced findings at or above the threshold, or all of HEAD's when there is no
  comparison;
* ``comparison`` (or null) {introduced [finding], resolved [finding], controls
  [{id, title, status (added | deleted | changed), owner, frequency, location,
  weakenings, uncovered [framework IDs], changes [{kind, field, before, after,
  weakening, blocking, note, location}]}], exceptions [{id, person, conflict, change
  (added | removed | extended | shortened | changed), before_expiry, after_expiry,
  weakening, blocking, fields, location}], settings [{field, before, after,
  weakening (``policy-relaxed`` or null), blocking, location}]}.

A finding has the fields of ``controlbook check --format json`` (see
:mod:`generator.report.jsonout`); a location is {file, line, column} with the
repository path. Fields are only ever added within a version.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..diagnostics import Location
from ..diff import Comparison, ControlDelta, ExceptionDelta, FieldChange, SettingChange
from ..diff.review import ChangeReview
from .jsonout import finding_dict

FORMAT = "controlbook-diff"
VERSION = 1


def _location(location: Location) -> dict[str, Any]:
    return {"file": location.file, "line": location.line, "column": location.column}


def _change(review: ChangeReview, change: FieldChange) -> dict[str, Any]:
    return {
        "kind": str(change.kind),
        "field": change.field,
        "before": change.before,
        "after": change.after,
        "weakening": change.weakening and str(change.weakening),
        "blocking": review.blocks(change.weakening),
        "note": change.note,
        "location": _location(change.location),
    }


def _control(review: ChangeReview, delta: ControlDelta) -> dict[str, Any]:
    return {
        "id": delta.id,
        "title": delta.title,
        "status": str(delta.status),
        "owner": delta.owner,
        "frequency": str(delta.frequency),
        "location": _location(delta.location),
        "weakenings": [str(w) for w in delta.weakenings],
        "uncovered": list(delta.uncovered),
        "changes": [_change(review, c) for c in delta.changes],
    }


def _exception(review: ChangeReview, delta: ExceptionDelta) -> dict[str, Any]:
    return {
        "id": delta.id,
        "person": delta.person,
        "conflict": list(delta.conflict),
        "change": str(delta.change),
        "before_expiry": delta.before_expiry and delta.before_expiry.isoformat(),
        "after_expiry": delta.after_expiry and delta.after_expiry.isoformat(),
        "weakening": delta.weakening and str(delta.weakening),
        "blocking": review.blocks(delta.weakening),
        "fields": list(delta.fields),
        "location": _location(delta.location),
    }


def _setting(review: ChangeReview, change: SettingChange) -> dict[str, Any]:
    return {
        "field": change.field,
        "before": change.before,
        "after": change.after,
        "weakening": change.weakening and str(change.weakening),
        "blocking": review.blocks(change.weakening),
        "location": _location(change.location),
    }


def _comparison(review: ChangeReview, comparison: Comparison) -> dict[str, Any]:
    return {
        "introduced": [finding_dict(f) for f in comparison.findings.introduced],
        "resolved": [finding_dict(f) for f in comparison.findings.resolved],
        "controls": [_control(review, c) for c in comparison.controls],
        "exceptions": [_exception(review, e) for e in comparison.exceptions],
        "settings": [_setting(review, s) for s in comparison.settings],
    }


def report(review: ChangeReview) -> dict[str, Any]:
    """The review as plain data (see the module docstring for the fields)."""
    problem, comparison = review.base_problem, review.comparison
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": "controlbook", "version": __version__},
        "catalog": review.catalog,
        "as_of": review.as_of.isoformat(),
        "base": {
            "revision": review.base.revision,
            "commit": review.base.commit,
            "readable": problem is None,
            "problem": problem.message if problem else None,
            "diagnostics": [str(d).split("\n", 1)[0] for d in problem.diagnostics]
            if problem
            else [],
        },
        "head": {
            "revision": review.head.revision,
            "commit": review.head.commit,
            "open": len(review.head_evaluation.open),
            "failing": len(review.head_evaluation.failing(review.threshold)),
        },
        "policy": {
            "threshold": str(review.threshold),
            "block_on": [str(w) for w in review.block_on],
            "threshold_from": str(review.threshold_from),
            "block_on_from": str(review.block_on_from),
        },
        "summary": {
            "failed": review.failed,
            "exit_code": review.exit_code,
            "headline": review.headline,
            "introduced": len(comparison.findings.introduced) if comparison else None,
            "resolved": len(comparison.findings.resolved) if comparison else None,
            "failing": [finding_dict(f) for f in review.failing_findings],
            "blocking_controls": [c.id for c in review.blocking_controls],
            "blocking_exceptions": [e.id for e in review.blocking_exceptions],
            "blocking_settings": [s.field for s in review.blocking_settings],
        },
        "comparison": _comparison(review, comparison) if comparison else None,
    }


def render(review: ChangeReview) -> str:
    return json.dumps(report(review), indent=2, ensure_ascii=False) + "\n"
