"""The MkDocs plugins the site build adds to the user's configuration.

Each is built on demand (MkDocs is imported only when a site is built):

- :func:`relative_error_pages`: the 404 page links relative to the site root;
- :func:`search_separators_plugin`: table cells do not run together in the search index;
- :func:`files_copied_later_plugin`: files that are part of the site (links to them are
  checked) but copied into it after MkDocs is done, so that the narratives can still be
  laid out while MkDocs converts and renders the pages;
- :func:`rendered_pages_plugin`: the pages Controlbook rendered, given to MkDocs from
  memory instead of written to ``docs_dir`` and read back;
- :func:`blank_lines_plugin`: pages written without the theme's blank lines.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any


def relative_error_pages() -> Any:
    """A MkDocs plugin that renders error pages (``404.html``) with links relative to the
    site root, like every other page.

    MkDocs writes them with root-absolute links (``/assets/...``) unless ``site_url`` says
    where the site lives, which breaks the page from ``file://`` and under a sub-path. The
    catalog's 404 sits at the site root, so relative links work wherever the site is put;
    a configuration with ``site_url`` keeps MkDocs' absolute links under that path (the
    right choice for a server that answers a missing nested URL with the 404 page)."""
    from mkdocs.plugins import BasePlugin
    from mkdocs.utils import is_error_template

    class RelativeErrorPages(BasePlugin):  # type: ignore[type-arg]
        def on_template_context(self, context: Any, *, template_name: str, config: Any) -> Any:
            if is_error_template(template_name):
                context["base_url"] = "."
            return context

    return RelativeErrorPages()


_RUN_TOGETHER = re.compile(r"(</(?:td|th|tr|option|text|li|dt|dd)>|<br\s*/?>)(?=[^\s<]|<[^/])")
"""The end of a table cell, row, option, SVG label or list item, or a line break, directly
followed by more content (text or an opening tag; never by a closing tag, so a label keeps
the exact text of the link around it)."""


def search_separators(content: str) -> str:
    """Page HTML with a line break after each table cell, row, option, SVG label, list
    item and line break that is directly followed by more content.

    The search plugin indexes the text of a page as it stands, so cells written side by
    side (``<td>high</td><td>BRK-1</td>``) would run together in the index and in the
    search snippets ("highBRK-1"). A line break between them is no change to how a
    browser lays the page out (white space between cells, options and SVG labels is not
    rendered; after a ``<br>`` it starts the next line), and the index then reads "high
    BRK-1". Python-Markdown writes its own tables this way."""
    return _RUN_TOGETHER.sub("\\1\n", content)


def search_separators_plugin() -> Any:
    """A MkDocs plugin that applies :func:`search_separators` to every page before the
    search plugin indexes it."""
    from mkdocs.plugins import BasePlugin

    class SearchSeparators(BasePlugin):  # type: ignore[type-arg]
        def on_page_content(self, html: str, **_: Any) -> str:
            return search_separators(html)

    return SearchSeparators()


def files_copied_later_plugin(files: dict[str, Path]) -> Any:
    """A MkDocs plugin that adds ``files`` (site path -> file) to the site without copying
    them: MkDocs resolves and checks the links to them as to any other file, and the
    caller copies them into the site once they exist."""
    from mkdocs.plugins import BasePlugin
    from mkdocs.structure.files import File, InclusionLevel

    class CopiedLater(File):
        def copy_file(self, dirty: bool = False) -> None:
            """Copied by the caller once the file exists."""

    class FilesCopiedLater(BasePlugin):  # type: ignore[type-arg]
        def on_files(self, site_files: Any, *, config: Any) -> Any:
            for rel, path in sorted(files.items()):
                site_files.append(
                    CopiedLater.generated(
                        config, rel, abs_src_path=str(path), inclusion=InclusionLevel.INCLUDED
                    )
                )
            return site_files

    return FilesCopiedLater()


def walk_order(src_uri: str) -> tuple[tuple[str, ...], bool, str]:
    """Where MkDocs' walk of ``docs_dir`` would list a file: folder by folder (a folder's
    files before its subfolders, folders by name), and within a folder ``index`` and
    ``README`` first, then by name (``mkdocs.structure.files.get_files``)."""
    *folders, name = src_uri.split("/")
    return (tuple(folders), os.path.splitext(name)[0] not in ("index", "README"), name)


def rendered_pages_plugin(texts: dict[str, str]) -> Any:
    """A MkDocs plugin that adds the rendered pages ``texts`` (path -> Markdown) to the
    site as files held in memory (MkDocs 1.6's generated files). At 7,000 pages, writing
    them to ``docs_dir`` for MkDocs to read back took 3 s of a rebuild, most of it creating
    the files. The plugin takes the texts out of ``texts`` as it hands them over, so they
    are held once. The pages come in the order MkDocs' walk of ``docs_dir`` would have
    listed them (:func:`walk_order`), which is the order MkDocs builds them and so the order
    of the search index."""
    from mkdocs.plugins import BasePlugin
    from mkdocs.structure.files import File

    class RenderedPages(BasePlugin):  # type: ignore[type-arg]
        def on_files(self, site_files: Any, *, config: Any) -> Any:
            for rel in sorted(texts, key=walk_order):
                site_files.append(File.generated(config, rel, content=texts.pop(rel)))
            return site_files

    return RenderedPages()


_KEPT_AS_WRITTEN = re.compile(r"<(pre|textarea|script|style|article)[\s>]", re.IGNORECASE)
"""Elements whose white space is shown, or is code, or is the page's own content."""
_BLANK_LINES = re.compile(r"\n[ \t\n]*\n")


@cache
def _closing(tag: str) -> re.Pattern[str]:
    return re.compile(f"</{tag}[\\s>]", re.IGNORECASE)


def without_blank_lines(page: str) -> str:
    """``page`` (HTML) without its blank lines, except inside the elements where white
    space may matter: ``pre``, ``textarea``, ``script`` and ``style``, and the page's
    ``article`` (its content, whose code and styled text may keep white space).

    The theme's navigation is rendered for every page, one template block per line, and
    each block leaves a line of indentation: seven in ten bytes of a person page at full
    size (180 KB, 1.5 GB in all). Elsewhere a run of white space is shown as one space
    whatever it holds, and a run of blank lines becomes one line break, so the page looks
    and reads the same (tested by parsing both). Outside those elements only the first
    closing tag ends a ``pre``, ``textarea``, ``script`` or ``style`` (their content is
    text), and the last one ends the article."""
    parts: list[str] = []
    done = 0
    for found in _KEPT_AS_WRITTEN.finditer(page):
        start = found.start()
        if start < done:
            continue  # inside an element already kept as written
        tag = found.group(1).lower()
        if tag == "article":
            ends = [m.start() for m in _closing(tag).finditer(page, found.end())]
            end = ends[-1] if ends else len(page)
        else:
            close = _closing(tag).search(page, found.end())
            end = close.start() if close else len(page)
        parts += (_BLANK_LINES.sub("\n", page[done:start]), page[start:end])
        done = end
    parts.append(_BLANK_LINES.sub("\n", page[done:]))
    return "".join(parts)


def blank_lines_plugin() -> Any:
    """A MkDocs plugin that writes every page and the error page
    :func:`without_blank_lines` (before the page cache keeps a page, which then holds and
    writes the smaller one)."""
    from mkdocs.plugins import BasePlugin

    class BlankLines(BasePlugin):  # type: ignore[type-arg]
        def on_post_page(self, output: str, **_: Any) -> str:
            return without_blank_lines(output)

        def on_post_template(self, output: str, *, template_name: str, **_: Any) -> str:
            """The theme's own pages (``404.html``); not the sitemap."""
            return without_blank_lines(output) if template_name.endswith(".html") else output

    return BlankLines()
