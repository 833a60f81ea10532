"""Framework mapping: every control maps to NIST CSF 2.0 (and OWASP NHI where relevant), by valid IDs."""

from __future__ import annotations

from collections.abc import Iterator

from ...model import AccountType, Control, Severity
from ...references import ResolutionStatus, resolve_csf, resolve_nhi
from ..findings import Gap
from .base import rule
from .context import Context


def nhi_scoped(control: Control) -> bool:
    """Whether non-human identities are in the control's scope."""
    return any(AccountType.SERVICE in p.account_types for p in control.populations)


@rule(
    "MAP-1",
    "Control without framework mapping",
    "mapping",
    Severity.MEDIUM,
    hint="Map the control to the NIST CSF 2.0 subcategories (and OWASP NHI risks) it addresses.",
)
def unmapped_control(ctx: Context) -> Iterator[Gap]:
    """Each control maps to NIST CSF 2.0; one covering non-human identities also to OWASP NHI.

    Mappings show which outcomes the catalog covers and which it leaves open;
    an unmapped control is invisible in coverage reporting.

    Fix: add ``mappings.csf`` (and ``mappings.owasp_nhi`` when service accounts
    are in scope).
    """
    for control in ctx.catalog.controls.values():
        if not control.mappings.csf:
            yield Gap(
                control.id,
                control.id,
                f"{control.id} is not mapped to any NIST CSF 2.0 subcategory",
                control.loc("id"),
            )
        if nhi_scoped(control) and not control.mappings.owasp_nhi:
            yield Gap(
                control.id,
                control.id,
                f"{control.id} reviews non-human identities but maps to no OWASP NHI Top 10 risk",
                control.loc("id"),
            )


@rule(
    "MAP-2",
    "Framework ID that does not exist",
    "mapping",
    Severity.MEDIUM,
    hint="Use the suggested CSF 2.0 / OWASP NHI ID.",
)
def unknown_reference(ctx: Context) -> Iterator[Gap]:
    """Mappings use IDs that exist in the shipped NIST CSF 2.0 and OWASP NHI (2025) catalogs.

    Articles still cite CSF 1.1 IDs (``PR.AC-4``) as "CSF 2.0"; in 2.0 that family
    became ``PR.AA``. A wrong ID silently breaks coverage. Mapping to a whole
    function or category is allowed but imprecise (reported as low).

    Fix: use the ID the message suggests.
    """
    for control in ctx.catalog.controls.values():
        for field, resolve in (("csf", resolve_csf), ("owasp_nhi", resolve_nhi)):
            for index, ref in enumerate(getattr(control.mappings, field)):
                result = resolve(ref)
                if result.status == ResolutionStatus.EXACT:
                    continue
                low = result.status == ResolutionStatus.IMPRECISE
                yield Gap(
                    control.id,
                    ref,
                    result.message,
                    control.mappings.loc(field, index),
                    severity=Severity.LOW if low else None,
                    hint=("Use: " + ", ".join(result.suggestions)) if result.suggestions else None,
                )


RULES = (unmapped_control, unknown_reference)
