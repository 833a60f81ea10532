"""Web addresses in settings, and links built from them.

A URL setting ends up in the ``href`` of links on every page and in the pull-request
comment. Text that is not one plain URL (a line break, a space, a quote) could close
the attribute or start new Markdown there, so a URL is checked as a URL when the
catalog is loaded, and links are put together from its parts, never by pasting
strings into Markdown.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Annotated
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AfterValidator, StringConstraints

WEB_SCHEMES = ("http", "https")
_URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
"""What RFC 3986 allows in a URL; anything else must be percent-encoded."""


_CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x00": "NUL"}


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def url_problem(value: str) -> str | None:
    """Why ``value`` is not a plain http(s) URL with a host, or None when it is one."""
    for char in value:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return (
                f"a URL cannot contain spaces, line breaks or control characters "
                f"(found {_describe(char)})"
            )
        if char not in _URL_CHARACTERS:
            return f"{char!r} is not allowed in a URL; percent-encode it"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"{value!r} is not a valid URL ({exc})"
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return f"{value!r} is not a web address: write https://host/path"
    return None


def _web_url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


WebUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_web_url)]
"""An http or https URL with a host: no spaces, control characters or quotes."""


def file_link(base: str, rel: str, line: int = 0) -> str:
    """The web address of catalog file ``rel`` (line ``line``) under the folder URL ``base``.

    Built from parts: the file path is percent-encoded and appended to the base path,
    the base's query is kept, and the line becomes the fragment ``L<line>``.
    """
    parts = urlsplit(base)
    path = f"{parts.path.rstrip('/')}/{quote(rel.lstrip('/'))}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, f"L{line}" if line else ""))
