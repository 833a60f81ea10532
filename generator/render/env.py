"""The one Jinja environment factory: strict, escaping by default, user-overridable templates.

Every ``{{ value }}`` is escaped unless it is already :class:`markupsafe.Markup`:
for HTML with HTML escaping, for Markdown with an escaping that also neutralises
Markdown syntax, so a control title such as ``<script>`` or ``{{ 7*7 }}`` shows
literally. Data is only ever passed *to* templates, never compiled *as* one.

Templates are code. The built-in ones are trusted; a ``--templates`` folder is not,
so when one is given every template renders in Jinja's immutable sandbox: it can
format the data it is given, but not reach Python's objects, files or processes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from ..errors import ControlbookError, InstallationError
from ..model.urls import url_problem
from ..resources import TEMPLATES

_MD_INLINE = re.compile(r"[\\`*_{}\[\]()#+!|~<>&\"']")
_LINE_START = re.compile(r"^(?:[-=]|\d+(?=[.)]))")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
"""Bidi controls and zero-width characters: they reorder or hide the text around them."""
_MAILTO = re.compile(r"mailto:[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def visible(text: str) -> str:
    """``text`` with bidi controls and zero-width characters written out (``\\u202e``), so
    that a name cannot show as something else than what it is."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def md_escape(value: Any) -> Markup:
    """Inline text for Markdown: HTML and Markdown syntax become character references."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else visible(str(value))
    text = " ".join(text.split())
    text = _MD_INLINE.sub(lambda m: f"&#{ord(m.group())};", text)
    # a leading "-", "=" or "1." would start a list or heading where the value opens a line
    text = _LINE_START.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)
    return Markup(text)


def html_text(value: Any) -> Markup:
    """Inline text for a cell of a raw HTML table in a Markdown page: HTML-escaped only.

    Python-Markdown passes a raw HTML block through as it is, so Markdown syntax in it is
    never interpreted and needs no escaping; writing ``_`` as ``&#95;`` there (as
    :func:`md_escape` must elsewhere) only makes the page larger and slower to convert.
    Line breaks are folded, so a value can never end the HTML block and start Markdown."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else visible(str(value))
    return escape(" ".join(text.split()))


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
    body = "<br>".join(str(escape(visible(line))) for line in paragraphs(value))
    return Markup(f'<div class="cb-text">{body}</div>')


def safe_url(value: Any) -> str | None:
    """A URL only when it is one plain http(s) URL with a host, or a plain ``mailto:``;
    ``javascript:``, ``file:``, and text with spaces, line breaks or quotes are refused."""
    url = str(value or "")
    if _MAILTO.fullmatch(url):
        return url
    return url if url_problem(url) is None else None


def link(text: Any, url: Any) -> Markup:
    """A Markdown-safe HTML link, or the bare text when the URL is not allowed.

    Built from parts: the URL is checked as one URL (no space or line break could end the
    HTML and start Markdown after it) and HTML-escaped into ``href``; the label is
    escaped for HTML and Markdown."""
    target = safe_url(url)
    label = md_escape(text)
    return Markup(f'<a href="{escape(target)}">{label}</a>') if target else label


def _visible_value(value: Any) -> Any:
    """The PDF's finalizer: text shows its invisible characters; HTML escaping follows."""
    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


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


class TemplateSandboxError(ControlbookError):
    """An override template did something the sandbox forbids (reached for Python)."""


def _template_position(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost template frame of a traceback."""
    where = "(unknown template)"
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(tb.tb_lineno)
            where = f"{template.filename or template.name}:{line}"
        elif tb.tb_frame.f_code.co_filename.endswith(".j2"):
            # a frame Jinja rewrote once rendering failed: the template's file and line
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def template_problem(exc: TemplateError) -> str:
    """``template FILE:LINE: message`` for a template that failed to compile or render
    (an override, typically)."""
    if isinstance(exc, TemplateSyntaxError):
        return f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}"
    return f"template {_template_position(exc.__traceback__)}: {exc}"


class _Sandbox(ImmutableSandboxedEnvironment):
    """The environment of override templates. A sandbox violation is the user's template
    at fault, not a bug: it becomes an error naming the template and line (exit 2)."""

    def handle_exception(self, source: str | None = None) -> NoReturn:
        error = sys.exc_info()[1]
        if isinstance(error, SecurityError):
            where = _template_position(error.__traceback__)
            reason = str(error).rstrip(".")
            raise TemplateSandboxError(
                f"template {where}: {reason} (templates from --templates run in a sandbox: "
                "they can format the data they are given, not reach Python)"
            ) from None
        super().handle_exception(source)


def make_environment(kind: str, overrides: Path | None = None) -> Environment:
    """Environment for ``kind`` ("site", "pdf", "diff"); ``overrides`` is a folder whose
    templates replace the project's ones with the same name, rendered in the sandbox."""
    folders = [overrides / kind] if overrides else []
    folders.append(TEMPLATES / kind)
    # Markdown pages: every value goes through md_escape (HTML *and* Markdown syntax);
    # autoescape stays on so that macros return Markup and nothing slips through unescaped.
    finalize: Callable[[Any], Any] = md_escape if kind in ("site", "diff") else _visible_value
    environment = _Sandbox if overrides else Environment
    env = environment(
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
    env.filters["h"] = html_text
    return env
