"""Stage 1, the catalog: read a catalog folder (or a git revision of it) into typed models.

Takes: a folder of YAML files (or a git revision, :mod:`.gitsource`). Gives: a
:class:`generator.model.Catalog` with every record's file and line, or
:class:`generator.errors.CatalogInvalid` listing every error at once.

``yamlsrc`` parses YAML with positions → ``loader`` validates each file against its model
(``parsecache`` skips unchanged files) → ``validate`` runs the checks across files.
``schema`` writes the JSON Schema editors use; ``scaffold`` writes a starter catalog
(``starter/``); ``gctune`` sets Python's garbage collector for a process that holds a
large catalog (the CLI and the parse workers).
"""
