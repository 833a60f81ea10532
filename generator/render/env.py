"""The one Jinja environment factory: strict, escaping by default, user-overridable templates.

Every ``{{ value }}`` is escaped unless it is already :class:`markupsafe.Markup`:
for HTML with HTML escaping, for Markdown with an escaping that also neutralises
Markdown syntax, so a control title such as ``<script>`` or ``{{ 7*7 }}`` shows
literally. Data is only ever passed *to* templates, never compiled *as* one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup, escape

from ..errors import InstallationError
from ..resources import TEMPLATES

_MD_INLINE = re.compile(r"[\\`*_{}\[\]()#+!|~<>&\"']")
_LINE_START = re.compile(r"^(?:[-=]|\d+(?=[.)]))")
_SAFE_SCHEMES = ("https://", "http://", "mailto:")


def md_escape(value: Any) -> Markup:
    """Inline text for Markdown: HTML and Markdown syntax become character references."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    text = _MD_INLINE.sub(lambda m: f"&#{ord(m.group())};", text)
    # a leading "-", "=" or "1." would start a list or heading where the value opens a line
    text = _LINE_START.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)
    return Markup(text)


_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s")


def paragraphs(value: Any) -> list[str]:
    """User text as lines: blank lines and list-like lines ("1. ", "- ") start a new one;
    other line breaks are wrapping and are joined (YAML block text is often hard-wrapped)."""
    out: list[str] = []
    joining = False
    for raw in str(value or "").strip().splitlines():
        line = raw.strip()
        if not line:
            joining = False
            continue
        if joining and not _STEP.match(raw):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        joining = True
    return out


def text_block(value: Any) -> Markup:
    """Multi-line user text as an HTML block that keeps its steps and never renders markup."""
    body = "<br>".join(str(escape(line)) for line in paragraphs(value))
    return Markup(f'<div class="cb-text">{body}</div>')


def safe_url(value: Any) -> str | None:
    """A URL only when it is http(s) or mailto; ``javascript:``, ``file:`` and the rest are refused."""
    url = str(value or "").strip()
    return (
        url
        if url.lower().startswith(_SAFE_SCHEMES) and not any(c in url for c in "<>\"' ")
        else None
    )


def link(text: Any, url: Any) -> Markup:
    """A Markdown-safe HTML link, or the bare text when the URL is not allowed."""
    target = safe_url(url)
    label = escape(str(text))
    return Markup(f'<a href="{escape(target)}">{label}</a>') if target else Markup(label)


class _TemplateLoader(ChoiceLoader):
    """The override folder first, then the built-in templates. A template found in neither
    means a broken installation: that is said plainly, with the folders searched."""

    def __init__(self, folders: list[Path]) -> None:
        super().__init__([FileSystemLoader(str(f)) for f in folders])
        self.folders = folders

    def load(self, environment: Environment, name: str, globals: Any = None) -> Any:
        try:
            return super().load(environment, name, globals)
        except TemplateNotFound:
            searched = ", ".join(str(f) for f in self.folders)
            raise InstallationError(
                f"template {name!r} is missing (searched {searched}): the installation "
                "is incomplete; reinstall Controlbook"
            ) from None


def make_environment(kind: str, overrides: Path | None = None) -> Environment:
    """Environment for ``kind`` ("site", "pdf", "diff"); ``overrides`` is a folder whose
    templates replace the project's ones with the same name."""
    folders = [overrides / kind] if overrides else []
    folders.append(TEMPLATES / kind)
    # Markdown pages: every value goes through md_escape (HTML *and* Markdown syntax);
    # autoescape stays on so that macros return Markup and nothing slips through unescaped.
    finalize: Callable[[Any], Any] | None = md_escape if kind in ("site", "diff") else None
    env = Environment(
        loader=_TemplateLoader(folders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["block"] = text_block
    env.filters["link"] = link
    env.filters["safe_url"] = safe_url
    env.filters["md"] = md_escape
    return env
