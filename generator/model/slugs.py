"""File names for record IDs: the one mapping from an ID to its page and PDF.

It lives with the models, below both validation and rendering: validation refuses two
IDs that would get the same file name (one page would silently replace the other),
and rendering writes the pages under exactly these names.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
RESERVED = frozenset({"index"})
"""Names taken by the section pages (``controls/index.md``...), compared case-insensitively."""


def slug(value: str) -> str:
    """A file name for an ID: letters, digits, dot, dash and underscore only."""
    return _UNSAFE.sub("-", value).strip("-") or "_"


def page_key(value: str) -> str:
    """What must differ between two IDs' file names: their slug, ignoring case (a
    case-insensitive file system, as on macOS or Windows, keeps only one of ``ERP``
    and ``erp``)."""
    return slug(value).casefold()
