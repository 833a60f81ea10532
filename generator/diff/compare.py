"""Compare two evaluated catalogs: controls, SoD exceptions, settings and findings."""

from __future__ import annotations

from ..evaluation.coverage import compute
from ..evaluation.evaluate import Evaluation
from ..evaluation.findings import Finding, fingerprint
from ..model import Catalog, Settings, SodException, Weakening
from .controls import control_deltas
from .types import (
    Comparison,
    ExceptionChange,
    ExceptionDelta,
    FindingsDelta,
    SettingChange,
)


def _severity_order(finding: Finding) -> tuple[int, tuple[str, str, int, int, str, str]]:
    return finding.severity.rank, finding.sort_key()


def diff_findings(base: Evaluation, head: Evaluation) -> FindingsDelta:
    """Open findings introduced and resolved, worst first (identity: ``sarif.fingerprint``)."""
    base_open = {fingerprint(f) for f in base.open}
    head_open = {fingerprint(f) for f in head.open}
    introduced = [f for f in head.open if fingerprint(f) not in base_open]
    resolved = [f for f in base.open if fingerprint(f) not in head_open]
    return FindingsDelta(
        tuple(sorted(introduced, key=_severity_order)),
        tuple(sorted(resolved, key=_severity_order)),
    )


def _exception_change(old: SodException, new: SodException) -> ExceptionChange | None:
    if old.expires != new.expires:
        if new.expires is None or (old.expires is not None and new.expires > old.expires):
            return ExceptionChange.EXTENDED
        return ExceptionChange.SHORTENED
    return ExceptionChange.CHANGED if old.model_dump() != new.model_dump() else None


def _exceptions(base: Catalog, head: Catalog) -> list[ExceptionDelta]:
    deltas = []
    for eid in sorted(base.exceptions.keys() | head.exceptions.keys()):
        old, new = base.exceptions.get(eid), head.exceptions.get(eid)
        shown = new or old
        assert shown is not None
        if new is None:
            change: ExceptionChange | None = ExceptionChange.REMOVED
        elif old is None:
            change = ExceptionChange.ADDED
        else:
            change = _exception_change(old, new)
        if change is None:
            continue
        was, now = (old.model_dump() if old else {}), (new.model_dump() if new else {})
        fields = (
            tuple(f for f in SodException.model_fields if was[f] != now[f])
            if change == ExceptionChange.CHANGED
            else ()
        )
        deltas.append(
            ExceptionDelta(
                eid,
                shown.person,
                tuple(shown.conflict),
                change,
                old.expires if old else None,
                new.expires if new else None,
                new.loc("expires") if new else shown.loc("id"),
                fields,
            )
        )
    return deltas


def _setting_text(value: object) -> str | None:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return None if value is None else str(value)


def _relaxes(field: str, base: Settings, head: Settings) -> bool:
    """Whether HEAD's value of a policy setting fails fewer changes than BASE's: a more
    severe ``fail_on`` threshold, or a kind dropped from ``block_on``."""
    if field == "fail_on":
        return head.fail_on.rank < base.fail_on.rank
    if field == "block_on":
        return bool(set(base.block_on) - set(head.block_on))
    return False


def _settings(base: Catalog, head: Catalog) -> list[SettingChange]:
    """Settings whose values differ (compared as data: records remember their source)."""
    was, now = base.settings.model_dump(), head.settings.model_dump()
    return [
        SettingChange(
            field,
            _setting_text(getattr(base.settings, field)),
            _setting_text(getattr(head.settings, field)),
            head.settings.loc(field),
            Weakening.POLICY_RELAXED if _relaxes(field, base.settings, head.settings) else None,
        )
        for field in type(head.settings).model_fields
        if was[field] != now[field]
    ]


def compare(
    base: Catalog, base_eval: Evaluation, head: Catalog, head_eval: Evaluation
) -> Comparison:
    """Compare BASE and HEAD, both evaluated at the same as-of date (HEAD's is used)."""
    coverage = compute(head, head_eval)
    return Comparison(
        tuple(control_deltas(base, head, head_eval.as_of, coverage)),
        tuple(_exceptions(base, head)),
        tuple(_settings(base, head)),
        diff_findings(base_eval, head_eval),
    )


__all__ = ["compare", "diff_findings"]
