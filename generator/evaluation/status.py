"""The one place that decides a control's status; the site, the PDFs, the coverage pages
and the PR review all ask here, so they can never disagree.

* **open findings**: at least one finding of the control is open (not waived);
* **not assessed**: nothing open, but a rule could not judge part of the control (missing
  evidence), or the control should have operated and no review of it is recorded;
* **clean**: no open finding and nothing unassessed. Never a default: it is earned.

A review period that is simply not due yet does not make a control "not assessed": that
is the calendar, not missing evidence (it is still listed under "not assessed").
"""

from __future__ import annotations

from enum import StrEnum

from ..model import Catalog, Control
from .evaluate import Evaluation


class ControlStatus(StrEnum):
    OPEN_FINDINGS = "open findings"
    NOT_ASSESSED = "not assessed"
    CLEAN = "clean"


def control_status(catalog: Catalog, evaluation: Evaluation, control: Control) -> ControlStatus:
    """The status of ``control`` in ``evaluation`` (see the module docstring)."""
    if any(f.is_open for f in evaluation.for_control(control.id)):
        return ControlStatus.OPEN_FINDINGS
    if any(n.missing_evidence for n in evaluation.not_assessed_for(control.id)):
        return ControlStatus.NOT_ASSESSED
    if control.populations and not catalog.reviews_of(control.id):
        return ControlStatus.NOT_ASSESSED
    return ControlStatus.CLEAN
