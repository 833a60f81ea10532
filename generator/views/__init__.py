"""Stage 4, views. View models: everything a page or a PDF shows, computed in Python, typed and sorted.

Templates receive these and only present them: every count, status and label is
decided here, so the site and the auditor narratives can never disagree. The types
are in :mod:`.types`; :class:`CatalogViews` (in :mod:`.build`) computes them.
"""

from . import types
from .build import CatalogViews
from .types import *  # noqa: F403 - the view types are this package's API

__all__ = ["CatalogViews", *types.__all__]
