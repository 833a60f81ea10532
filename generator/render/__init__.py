"""Stage 5, render: view models into pages and documents.

Takes: :class:`generator.views.CatalogViews`. Gives: the MkDocs Material site
(:mod:`.site`) and the PDF/A narratives before signing (:mod:`.narrative` builds each
narrative's view, :mod:`.narratives` renders them in a process pool, :mod:`.pdf` runs
WeasyPrint). The one Jinja environment factory is :mod:`.env`.
"""
