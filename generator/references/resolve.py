"""Check a framework reference written by a control owner and say how to fix it.

``resolve_csf("PR.AC-4")`` and ``resolve_nhi("NHI-03")`` return a :class:`Resolution`:
a status, the canonical IDs to use instead, and a message meant for the control owner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from .csf import (
    Change,
    CrosswalkEntry,
    CsfCatalog,
    CsfElement,
    CsfLevel,
    CsfSubcategory,
    load_csf,
)
from .nhi import NhiCatalog, NhiRisk, load_owasp_nhi

CLOSE_MATCH_CUTOFF = 0.6
"""Minimum difflib similarity for an ID to be offered as "did you mean"."""
MAX_CLOSE_MATCHES = 3
_SHOWN_LENGTH = 40
_CSF_EXAMPLE = "PR.AA-05"
_NHI_EXAMPLE = "NHI5:2025"


class ResolutionStatus(StrEnum):
    """How a reference relates to the catalog."""

    EXACT = "exact"
    """A CSF subcategory or an NHI risk, written canonically."""
    IMPRECISE = "imprecise"
    """A valid CSF function or category: accepted, but a subcategory would be precise."""
    OUTDATED = "outdated"
    """A CSF 1.1 ID that CSF 2.0 withdrew; see the suggestions for its successors."""
    NONCANONICAL = "noncanonical"
    """The right entry written in a non-canonical form; write the suggestion instead."""
    UNKNOWN = "unknown"
    """Not in the catalog; the suggestions, if any, are the closest IDs."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """The verdict on one reference."""

    ref: str
    """The reference exactly as given."""
    status: ResolutionStatus
    suggestions: tuple[str, ...]
    """Canonical IDs to use instead (empty for EXACT)."""
    message: str
    """One sentence for the control owner."""

    @property
    def accepted(self) -> bool:
        """True when the reference can stay as written (EXACT or IMPRECISE)."""
        return self.status in (ResolutionStatus.EXACT, ResolutionStatus.IMPRECISE)


# --------------------------------------------------------------------------- NIST CSF

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_CSF_PATTERN = re.compile(
    rf"^(?P<function>[A-Z]{{2}})"
    rf"(?:\s*[.\s]\s*(?P<category>[A-Z]{{2}})"
    rf"(?:\s*[{_DASHES}.\s]?\s*(?P<number>\d{{1,3}}))?)?$"
)


@dataclass(frozen=True, slots=True)
class _CsfParts:
    """A CSF-shaped reference split into its parts (upper-cased)."""

    function: str
    category: str | None
    number: int | None

    @property
    def csf20_id(self) -> str:
        """The CSF 2.0 spelling: zero-padded subcategory number (``PR.AA-05``)."""
        return self._join("{:02d}")

    @property
    def csf11_id(self) -> str:
        """The CSF 1.1 spelling: unpadded subcategory number (``PR.AC-4``)."""
        return self._join("{:d}")

    def _join(self, number_format: str) -> str:
        if self.category is None:
            return self.function
        if self.number is None:
            return f"{self.function}.{self.category}"
        return f"{self.function}.{self.category}-{number_format.format(self.number)}"


def _parse_csf(ref: str) -> _CsfParts | None:
    match = _CSF_PATTERN.match(ref.strip().upper())
    if match is None:
        return None
    number = match["number"]
    return _CsfParts(match["function"], match["category"], None if number is None else int(number))


def resolve_csf(ref: str) -> Resolution:
    """Resolve a NIST CSF reference against CSF 2.0 (and the CSF 1.1 crosswalk).

    >>> resolve_csf("PR.AC-4").message
    'PR.AC-4 is a CSF 1.1 ID; in CSF 2.0 it moved to PR.AA-05'
    """
    catalog = load_csf()
    element = catalog.get(ref)
    if element is not None:
        return _csf_valid(ref, element, catalog)
    if not ref.strip():
        message = (
            f"No NIST CSF reference given; write a CSF 2.0 subcategory ID such as {_CSF_EXAMPLE}"
        )
        return Resolution(ref, ResolutionStatus.UNKNOWN, (), message)
    parts = _parse_csf(ref)
    if parts is None:
        return _csf_unknown(ref, ref.strip().upper(), catalog, "is not a NIST CSF ID")
    legacy = catalog.transition(parts.csf11_id)
    if legacy is not None and legacy.withdrawn:
        return _csf_outdated(ref, legacy)
    element = catalog.get(parts.csf20_id)
    if element is not None:
        return _csf_noncanonical(ref, element, legacy)
    return _csf_unknown(ref, parts.csf20_id, catalog, "does not exist in NIST CSF 2.0")


def _csf_valid(ref: str, element: CsfElement, catalog: CsfCatalog) -> Resolution:
    if element.level is CsfLevel.SUBCATEGORY:
        return Resolution(ref, ResolutionStatus.EXACT, (), f"{ref} is a NIST CSF 2.0 subcategory")
    if element.level is CsfLevel.CATEGORY:
        children: Sequence[CsfElement] = catalog.subcategories_of(element.id)
        advice = f"prefer one of its {len(children)} subcategories"
    else:
        children = catalog.categories_of(element.id)
        advice = f"prefer a subcategory from one of its {len(children)} categories"
    message = (
        f"{ref} is a CSF 2.0 {_describe(element)}, not a subcategory; "
        f"it is accepted but imprecise, so {advice}"
    )
    return Resolution(ref, ResolutionStatus.IMPRECISE, tuple(c.id for c in children), message)


def _csf_outdated(ref: str, entry: CrosswalkEntry) -> Resolution:
    shown = _show(ref)
    if ref == entry.csf11_id:
        subject = f"{shown} is a CSF 1.1 ID"
    elif ref == entry.placeholder_id:
        subject = f"{shown} is NIST's placeholder for the withdrawn CSF 1.1 ID {entry.csf11_id}"
    else:
        subject = f"{shown} is the CSF 1.1 ID {entry.csf11_id}"
    targets = ", ".join(entry.targets)
    outcome = {
        Change.MOVED: f"moved to {targets}",
        Change.INCORPORATED: f"was incorporated into {targets}",
        Change.WITHDRAWN: "was withdrawn",
    }[entry.change]
    message = f"{subject}; in CSF 2.0 it {outcome}"
    if entry.note:
        message += f" ({entry.note.rstrip('.')})"
    if not entry.targets:
        message += "; map the control to the CSF 2.0 subcategory that fits it"
    return Resolution(ref, ResolutionStatus.OUTDATED, entry.targets, message)


def _csf_noncanonical(ref: str, element: CsfElement, legacy: CrosswalkEntry | None) -> Resolution:
    message = f"{_show(ref)} is not the canonical form; write {element.id}"
    if (
        legacy is not None
        and legacy.level is CsfLevel.SUBCATEGORY
        and _compact(ref) == legacy.csf11_id
    ):
        message += " (CSF 2.0 kept this CSF 1.1 ID and gave it a two-digit number"
        related = [target for target in legacy.targets if target != element.id]
        if related:
            message += f"; NIST also relates it to {', '.join(related)}"
        message += ")"
    elif element.level is not CsfLevel.SUBCATEGORY:
        message += f", a CSF 2.0 {_describe(element)}; a subcategory is more precise"
    return Resolution(ref, ResolutionStatus.NONCANONICAL, (element.id,), message)


def _csf_unknown(ref: str, probe: str, catalog: CsfCatalog, problem: str) -> Resolution:
    close = _closest(probe, catalog.ids)
    if close:
        advice = f"did you mean {_or_list(close)}?"
    else:
        advice = f"write a CSF 2.0 subcategory ID such as {_CSF_EXAMPLE}"
    return Resolution(ref, ResolutionStatus.UNKNOWN, close, f"{_show(ref)} {problem}; {advice}")


def _describe(element: CsfElement) -> str:
    """``function (GOVERN)``, ``category (Policy)`` or ``subcategory``."""
    if isinstance(element, CsfSubcategory):
        return element.level
    return f"{element.level} ({element.name})"


# ------------------------------------------------------------------------ OWASP NHI

_NHI_PATTERN = re.compile(
    r"^NHI\s*[-_:#.]?\s*0*(?P<rank>\d{1,3})"
    r"(?:(?:\s*[:/-]\s*|\s+)(?P<year>\d{4}))?"
    r"(?:\s*[-:\u2013\u2014]?\s+(?P<title>\S.*))?$",
    re.IGNORECASE,
)


def resolve_nhi(ref: str) -> Resolution:
    """Resolve an OWASP NHI Top 10 reference against the 2025 list.

    >>> resolve_nhi("NHI-03").message
    "NHI-03 is not OWASP's ID form; write NHI3:2025 (Vulnerable Third-Party NHI)"
    """
    catalog = load_owasp_nhi()
    risk = catalog.get(ref)
    if risk is not None:
        message = f"{ref} is an OWASP NHI Top 10 ({catalog.version}) risk: {risk.title}"
        return Resolution(ref, ResolutionStatus.EXACT, (), message)
    if not ref.strip():
        message = f"No OWASP NHI reference given; write an ID such as {_NHI_EXAMPLE}"
        return Resolution(ref, ResolutionStatus.UNKNOWN, (), message)
    titled = _risk_by_title(ref, catalog)
    if titled is not None:
        return _nhi_noncanonical(ref, titled)
    match = _NHI_PATTERN.match(ref.strip())
    if match is None:
        return _nhi_unknown(ref, catalog)
    risk = catalog.by_rank(int(match["rank"]))
    if risk is None:
        first, last = catalog.risks[0].id, catalog.risks[-1].id
        message = (
            f"{_show(ref)} is not in the OWASP NHI Top 10 ({catalog.version}), "
            f"which runs from {first} to {last}"
        )
        return Resolution(ref, ResolutionStatus.UNKNOWN, (), message)
    if match["year"] is not None and match["year"] != catalog.version:
        message = (
            f"{_show(ref)} is not an ID in the OWASP NHI Top 10 ({catalog.version}); "
            f"did you mean {_label(risk)}?"
        )
        return Resolution(ref, ResolutionStatus.UNKNOWN, (risk.id,), message)
    if match["title"] is not None and _fold(match["title"]) != _fold(risk.title):
        return _nhi_title_mismatch(ref, risk, _risk_by_title(match["title"], catalog))
    return _nhi_noncanonical(ref, risk)


def _nhi_noncanonical(ref: str, risk: NhiRisk) -> Resolution:
    message = f"{_show(ref)} is not OWASP's ID form; write {_label(risk)}"
    return Resolution(ref, ResolutionStatus.NONCANONICAL, (risk.id,), message)


def _nhi_title_mismatch(ref: str, risk: NhiRisk, titled: NhiRisk | None) -> Resolution:
    message = f"{_show(ref)} names an ID and a title that do not match: {risk.id} is {risk.title}"
    suggestions: tuple[str, ...] = (risk.id,)
    if titled is not None and titled != risk:
        message += f", while {titled.title} is {titled.id}"
        suggestions += (titled.id,)
    return Resolution(ref, ResolutionStatus.UNKNOWN, suggestions, message)


def _nhi_unknown(ref: str, catalog: NhiCatalog) -> Resolution:
    by_key = {risk.id.upper(): risk for risk in catalog.risks}
    close = [by_key[key] for key in _closest(ref.strip().upper(), tuple(by_key))]
    problem = f"{_show(ref)} is not in the OWASP NHI Top 10 ({catalog.version})"
    if not close:
        message = f"{problem}; write an ID such as {_NHI_EXAMPLE}"
        return Resolution(ref, ResolutionStatus.UNKNOWN, (), message)
    message = f"{problem}; did you mean {_or_list([_label(risk) for risk in close])}?"
    return Resolution(ref, ResolutionStatus.UNKNOWN, tuple(risk.id for risk in close), message)


def _risk_by_title(text: str, catalog: NhiCatalog) -> NhiRisk | None:
    wanted = _fold(text)
    return next((risk for risk in catalog.risks if _fold(risk.title) == wanted), None)


def _label(risk: NhiRisk) -> str:
    return f"{risk.id} ({risk.title})"


# --------------------------------------------------------------------------- helpers


def _closest(probe: str, candidates: Sequence[str]) -> tuple[str, ...]:
    """The most similar candidates by difflib ratio; ties keep the candidates' order."""
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(probe)
    scored: list[tuple[float, int, str]] = []
    for index, candidate in enumerate(candidates):
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < CLOSE_MATCH_CUTOFF:
            continue
        if matcher.quick_ratio() < CLOSE_MATCH_CUTOFF:
            continue
        score = matcher.ratio()
        if score >= CLOSE_MATCH_CUTOFF:
            scored.append((-score, index, candidate))
    return tuple(candidate for _, _, candidate in sorted(scored)[:MAX_CLOSE_MATCHES])


def _show(ref: str) -> str:
    """The reference as it should appear in a message: quoted when it needs to be."""
    if ref == ref.strip() and ref.isprintable() and len(ref) <= _SHOWN_LENGTH:
        return ref
    if len(ref) > _SHOWN_LENGTH:
        ref = ref[: _SHOWN_LENGTH - 1] + "\u2026"
    return repr(ref)


def _compact(ref: str) -> str:
    return ref.strip().upper()


def _fold(text: str) -> str:
    return " ".join(text.strip(" \t-\u2013\u2014:()[]\"'").casefold().split())


def _or_list(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} or {items[-1]}"
