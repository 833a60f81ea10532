"""Framework reference catalogs that Controlbook validates mapping IDs against.

Two catalogs ship inside the package (``generator/references/data``) and need nothing
else at run time:

* NIST Cybersecurity Framework 2.0, with the CSF 1.1 -> 2.0 crosswalk:
  :func:`load_csf` and :func:`resolve_csf`.
* OWASP Top 10 Non-Human Identities Risks 2025: :func:`load_owasp_nhi` and
  :func:`resolve_nhi`.

IDs, names and mappings are the publishers'. Every ``description`` is Controlbook's own
short summary; each catalog carries a ``source_url`` to the official text.

>>> resolve_csf("PR.AA-5").suggestions
('PR.AA-05',)
>>> load_owasp_nhi().get("NHI1:2025").title
'Improper Offboarding'
"""

from ._data import ReferenceDataError
from .csf import (
    Change,
    CrosswalkEntry,
    CsfCatalog,
    CsfCategory,
    CsfElement,
    CsfFunction,
    CsfLevel,
    CsfSubcategory,
    load_csf,
)
from .nhi import NhiCatalog, NhiRisk, load_owasp_nhi
from .resolve import Resolution, ResolutionStatus, resolve_csf, resolve_nhi

__all__ = [
    "Change",
    "CrosswalkEntry",
    "CsfCatalog",
    "CsfCategory",
    "CsfElement",
    "CsfFunction",
    "CsfLevel",
    "CsfSubcategory",
    "NhiCatalog",
    "NhiRisk",
    "ReferenceDataError",
    "Resolution",
    "ResolutionStatus",
    "load_csf",
    "load_owasp_nhi",
    "resolve_csf",
    "resolve_nhi",
]
