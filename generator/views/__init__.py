"""View models: everything a page or a PDF shows, computed in Python, typed and sorted.

Templates receive these and only present them: every count, status and label is
decided here, so the site and the auditor narratives can never disagree. The types
are in :mod:`.types`; :class:`CatalogViews` (in :mod:`.build`) computes them.
"""

from .build import CatalogViews
from .types import (
    SEVERITY_ORDER,
    Bar,
    BreakGlassView,
    ConflictView,
    ControlView,
    EvidenceView,
    ExceptionView,
    FindingView,
    MappingView,
    NhiView,
    OwnershipView,
    PersonRolesView,
    PersonView,
    PopulationView,
    ReviewView,
    RoleView,
    RuleView,
    SodView,
    SourceRef,
    SystemView,
)

__all__ = [
    "SEVERITY_ORDER",
    "Bar",
    "BreakGlassView",
    "CatalogViews",
    "ConflictView",
    "ControlView",
    "EvidenceView",
    "ExceptionView",
    "FindingView",
    "MappingView",
    "NhiView",
    "OwnershipView",
    "PersonRolesView",
    "PersonView",
    "PopulationView",
    "ReviewView",
    "RoleView",
    "RuleView",
    "SodView",
    "SourceRef",
    "SystemView",
]
