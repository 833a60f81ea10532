"""Files Controlbook ships besides its code: the default templates and MkDocs configuration.

The repository's top-level ``templates/`` and ``mkdocs.yml`` are their only source. A
wheel carries them as ``generator/_data/`` (mapped there by the build backend, see
``pyproject.toml``); a source checkout (and an editable install) reads them where they are.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
"""The installed ``generator`` package."""

SOURCE_TREE = PACKAGE.parent
"""The folder holding the package: the repository in a checkout, ``site-packages`` when installed."""

_PACKAGED = PACKAGE / "_data"
_DATA = _PACKAGED if _PACKAGED.is_dir() else SOURCE_TREE

TEMPLATES = _DATA / "templates"
"""The built-in Jinja templates (``site/``, ``pdf/``, ``diff/``)."""

DEFAULT_MKDOCS_CONFIG = _DATA / "mkdocs.yml"
"""The MkDocs configuration the site is built with unless ``--config`` says otherwise."""


@cache
def package_digest() -> str:
    """A hash of every file of the package (its code, its reference data, anything it
    ships), for caches whose entries any of it may have shaped."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file()):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def interpreter_env() -> dict[str, str]:
    """The environment for a worker that is a fresh interpreter (``python -m ...``): this
    process's, with this copy of ``generator`` first on the module path."""
    path = os.pathsep.join(filter(None, [str(SOURCE_TREE), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}
