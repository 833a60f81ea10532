"""The OWASP Top 10 Non-Human Identities (NHI) Risks, 2025 edition.

IDs, ranks, titles and URLs are OWASP's. Descriptions are Controlbook's own one-line
summaries (see each risk's ``url`` for OWASP's text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from ._data import ReferenceDataError, load_document

NHI_FILE = "owasp-nhi-top10-2025.yaml"


@dataclass(frozen=True, slots=True)
class NhiRisk:
    """One entry of the list, e.g. ``NHI3:2025`` (Vulnerable Third-Party NHI)."""

    id: str
    rank: int
    title: str
    url: str
    description: str


@dataclass(frozen=True)
class NhiCatalog:
    """The OWASP NHI Top 10 in rank order."""

    version: str
    source_url: str
    risks: tuple[NhiRisk, ...]
    _by_id: Mapping[str, NhiRisk] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ranks = [risk.rank for risk in self.risks]
        if ranks != list(range(1, len(self.risks) + 1)):
            raise ReferenceDataError(f"{NHI_FILE}: ranks must run 1..N in order, got {ranks}")
        object.__setattr__(self, "_by_id", MappingProxyType({r.id: r for r in self.risks}))

    def get(self, risk_id: str) -> NhiRisk | None:
        """Return the risk with exactly this ID (``NHI3:2025``), or None."""
        return self._by_id.get(risk_id)

    def by_rank(self, rank: int) -> NhiRisk | None:
        """Return the risk at this rank (1 is the top risk), or None when out of range."""
        return self.risks[rank - 1] if 1 <= rank <= len(self.risks) else None


@cache
def load_owasp_nhi() -> NhiCatalog:
    """Load the shipped OWASP NHI Top 10 catalog (parsed once, then cached)."""
    document = load_document(NHI_FILE)
    risks = tuple(
        NhiRisk(
            id=node.text("id"),
            rank=node.integer("rank"),
            title=node.text("title"),
            url=node.text("url"),
            description=node.text("description"),
        )
        for node in document.children("risks")
    )
    return NhiCatalog(
        version=document.text("version"), source_url=document.text("source_url"), risks=risks
    )
