"""Reusing the HTML of unchanged pages between site builds.

MkDocs has no incremental build: every page is converted from Markdown, indexed for
search and rendered through the theme on each build. :func:`incremental_pages_plugin`
is a MkDocs plugin that, for a page whose inputs are unchanged since the last build of
the same output folder, skips all three and writes the HTML kept from that build, and
gives the search plugin the index entries kept with it. The result is byte-identical
to a clean build (tested in ``tests/test_site_incremental.py``). The same cache folder
keeps each page's Markdown, which :func:`~.site.render_pages` takes instead of rendering
the page's template when the page's values are unchanged (see :mod:`.pagekey`).

A page's key is a SHA-256 over everything its HTML depends on:

- the build: Controlbook's version and the source of the modules that drive MkDocs,
  the versions of MkDocs, the theme and the Markdown libraries, the configuration
  file, the theme's ``custom_dir`` if any, the site name, the build date and the
  navigation (which holds every page's title and so the previous/next links);
- every file of the site by path (links are resolved and checked against them) and
  every page's front matter (the theme may show another page's metadata in the
  navigation);
- the page itself: its path, front matter and Markdown.

Anchors a page holds and the anchors it links to in other pages are kept with it, so
MkDocs still checks links into a changed page. Entries are written only after a build
succeeded (a page whose conversion warned must never be served to a build that would
have failed), each carries a SHA-256 of its contents and one that does not match is
ignored and rebuilt. After each build, only the entries that build used are kept, so
the cache holds one site per output folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zlib
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .. import __version__

CACHED_TEMPLATE = "controlbook-cached-page.html"
"""A stand-in theme template for a page served from the cache: the theme's real
template is not rendered, and the cached HTML replaces this output."""

PLUGIN_NAME = "controlbook-incremental-pages"
SEARCH_PLUGINS = ("material/search", "search")
KNOWN_PLUGINS = frozenset({*SEARCH_PLUGINS, "material/offline", "offline"})
"""Plugins whose output per page is known to depend only on the page's inputs. With
any other plugin (or a hook) configured, nothing is cached."""

_LIBRARIES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2")
_SUFFIX = ".page"
_TEXT_SUFFIX = ".md"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _tree_digest(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return _digest(*(x for p in files for x in (p.relative_to(folder).as_posix(), p.read_bytes())))


def build_inputs(
    *,
    config_file: Path,
    site_name: str,
    epoch: int,
    nav: Any,
    front_matter: list[tuple[str, str]],
    custom_dir: Path | None,
) -> str:
    """The digest of what every page of one build depends on (all but the page itself
    and the list of files, which the plugin adds once MkDocs has gathered them)."""
    here = Path(__file__).parent
    return _digest(
        __version__,
        *(_version(p) for p in _LIBRARIES),
        (here / "sitecache.py").read_bytes(),
        (here / "site.py").read_bytes(),
        (here / "mkdocsplugins.py").read_bytes(),
        config_file.read_bytes(),
        _tree_digest(custom_dir) if custom_dir and custom_dir.is_dir() else "",
        site_name,
        str(epoch),
        json.dumps(nav, sort_keys=True, ensure_ascii=False),
        json.dumps(front_matter, ensure_ascii=False),
    )


@dataclass
class CachedPage:
    """What a page's build produced, beyond its Markdown: its HTML, its search entries,
    the anchors it holds and the anchors it links to in other files (by path).

    The HTML is held compressed (:attr:`packed`) until it is written: every page of the
    site is read from the cache before the first is written, and at 7,000 pages their
    HTML (mostly the navigation) is 1.5 GB uncompressed, about 10 times less compressed.
    An entry is the SHA-256 of its JSON, a line break, the JSON compressed, then the HTML
    compressed, whose SHA-256 the JSON holds."""

    packed: bytes
    search: list[dict[str, Any]]
    anchors: list[str]
    links: dict[str, dict[str, str]]

    @classmethod
    def of(
        cls,
        html: str,
        search: list[dict[str, Any]],
        anchors: list[str],
        links: dict[str, dict[str, str]],
    ) -> CachedPage:
        return cls(zlib.compress(html.encode("utf-8", "surrogatepass"), 1), search, anchors, links)

    @property
    def html(self) -> str:
        return zlib.decompress(self.packed).decode("utf-8", "surrogatepass")

    def to_bytes(self, key: str) -> bytes:
        meta = {
            "key": key,
            "html": hashlib.sha256(self.packed).hexdigest(),
            "search": self.search,
            "anchors": self.anchors,
            "links": self.links,
        }
        return _pack(meta) + self.packed

    @classmethod
    def from_bytes(cls, data: bytes, key: str) -> CachedPage | None:
        """The entry, or None when it is damaged, altered or not the one for ``key``."""
        digest, _, rest = data.partition(b"\n")
        stream = zlib.decompressobj()
        try:
            body = stream.decompress(rest)
        except zlib.error:
            return None
        item = _checked(digest, body, key) if stream.eof else None
        packed = stream.unused_data
        try:
            if item is None or item["html"] != hashlib.sha256(packed).hexdigest():
                return None
            return cls(packed, item["search"], item["anchors"], item["links"])
        except (KeyError, TypeError):
            return None


def _pack(item: dict[str, Any]) -> bytes:
    """An entry: the SHA-256 of its JSON, a line break, the JSON compressed."""
    body = json.dumps(item, ensure_ascii=True).encode("ascii")
    return hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + zlib.compress(body, 1)


def _unpack(data: bytes, key: str) -> dict[str, Any] | None:
    """The entry's JSON object, or None when it is damaged, altered or not the one for
    ``key``."""
    digest, _, packed = data.partition(b"\n")
    try:
        body = zlib.decompress(packed)
    except zlib.error:
        return None
    return _checked(digest, body, key)


def _checked(digest: bytes, body: bytes, key: str) -> dict[str, Any] | None:
    """The JSON object ``body`` when its SHA-256 is ``digest`` and it is the one for ``key``."""
    if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
        return None
    try:
        item = json.loads(body)
    except ValueError:
        return None
    return item if isinstance(item, dict) and item.get("key") == key else None


@dataclass
class PageCache:
    """The cached pages of one output folder: read during a build, new entries staged
    beside them and moved in by :meth:`commit` once the build has succeeded.

    It holds two kinds of entries: a page's HTML and search entries (``.page``, served
    to MkDocs by :func:`incremental_pages_plugin`) and a page's Markdown (``.md``, served
    to :func:`~.site.render_pages` instead of rendering its template, keyed by
    :func:`~.pagekey.page_key`)."""

    folder: Path
    used: set[str] = field(default_factory=set)
    """File names of the entries this build asked for."""
    hits: int = 0
    misses: int = 0
    text_hits: int = 0
    text_misses: int = 0

    @property
    def staging(self) -> Path:
        return self.folder / f".staging-{os.getpid()}"

    def _read(self, name: str) -> bytes:
        self.used.add(name)
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return b""

    def _stage(self, name: str, data: bytes) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        (self.staging / name).write_bytes(data)

    def get(self, key: str) -> CachedPage | None:
        data = self._read(f"{key}{_SUFFIX}")
        page = CachedPage.from_bytes(data, key) if data else None
        if page is None:
            self.misses += 1
        else:
            self.hits += 1
        return page

    def put(self, key: str, page: CachedPage) -> None:
        self._stage(f"{key}{_SUFFIX}", page.to_bytes(key))

    def get_text(self, key: str) -> str | None:
        """A page's Markdown kept under ``key``, or None. The page's other entries (the
        same Markdown under its other keys) are kept for the next build too."""
        data = self._read(f"{key}{_TEXT_SUFFIX}")
        item = _unpack(data, key) if data else None
        text = item.get("text") if item is not None else None
        if isinstance(text, str):
            self.text_hits += 1
            also = item.get("also") if item is not None else None
            if isinstance(also, list):
                self.used.update(f"{k}{_TEXT_SUFFIX}" for k in also if isinstance(k, str))
            return text
        self.text_misses += 1
        return None

    def put_text(self, keys: list[str], text: str) -> None:
        """A page's Markdown, rendered: kept under each of its keys."""
        self._put_texts(keys, text, keys)

    def also_under(self, keys: list[str], text: str, found: str) -> None:
        """A page's Markdown found under the key ``found``: kept under ``keys`` too."""
        self._put_texts(keys, text, [*keys, found])

    def _put_texts(self, keys: list[str], text: str, group: list[str]) -> None:
        """Each entry names the others of its ``group``: a build that finds the page under
        one key keeps them all (a page is looked up under its first key that hits)."""
        for key in keys:
            also = [k for k in group if k != key]
            self._stage(f"{key}{_TEXT_SUFFIX}", _pack({"key": key, "text": text, "also": also}))

    def commit(self) -> None:
        """Move this build's new entries in and drop every entry it did not use."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.staging.is_dir():
            for item in self.staging.iterdir():
                os.replace(item, self.folder / item.name)
        for item in self.folder.iterdir():
            if item.name.startswith(".staging-"):
                shutil.rmtree(item, ignore_errors=True)  # ours, or a killed build's
            elif item.name not in self.used:
                item.unlink(missing_ok=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _skip_conversion(page: Any) -> None:
    """Make MkDocs' conversion of ``page`` (a cache hit) a no-op. ``Page.render`` would
    set up a Markdown converter with every extension to convert an empty text: 0.3 ms a
    page, 2 s of a rebuild at full size. What it sets, it sets empty, as converting
    nothing does; :meth:`on_page_content` then puts the cached page's anchors and links."""
    from mkdocs.structure.toc import get_toc

    def render(config: Any, files: Any) -> None:
        page.content = ""
        page.toc = get_toc([])
        page.present_anchor_ids = set()
        page.links_to_anchors = {}

    page.render = render


def incremental_pages_plugin(cache: PageCache, inputs: str) -> Any:
    """The MkDocs plugin serving unchanged pages from ``cache``; ``inputs`` is the
    :func:`build_inputs` digest of this build."""
    from jinja2 import ChoiceLoader, DictLoader
    from mkdocs.plugins import BasePlugin, event_priority

    class IncrementalPages(BasePlugin):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.build_key = ""
            self.keys: dict[str, str] = {}
            self.hits: dict[str, CachedPage] = {}
            self.found: dict[str, Any] = {}
            self.mark = 0
            self.files: Any = None

        def _index(self, config: Any) -> list[dict[str, Any]] | None:
            for name in SEARCH_PLUGINS:
                plugin = config.plugins.get(name)
                if plugin is not None and getattr(plugin, "search_index", None) is not None:
                    return plugin.search_index.entries  # type: ignore[no-any-return]
            return None

        @event_priority(-100)
        def on_files(self, files: Any, *, config: Any) -> Any:
            others = set(config.plugins) - KNOWN_PLUGINS
            others -= {n for n in config.plugins if n.startswith("controlbook-")}
            if others:
                self.build_key = ""  # an unknown plugin or hook: cache nothing
            else:
                self.build_key = _digest(inputs, *sorted(f.src_uri for f in files))
            self.files = files
            return files

        @event_priority(-100)
        def on_page_markdown(self, markdown: str, *, page: Any, **_: Any) -> str:
            if not self.build_key or "title" not in page.meta:
                return markdown
            src = page.file.src_uri
            key = _digest(self.build_key, src, json.dumps(page.meta, sort_keys=True), markdown)
            self.keys[src] = key
            hit = cache.get(key)
            if hit is None:
                return markdown
            self.hits[src] = hit
            _skip_conversion(page)
            return ""  # nothing to convert: the HTML comes from the cache

        @event_priority(-100)
        def on_page_content(self, html: str, *, page: Any, **_: Any) -> str:
            hit = self.hits.get(page.file.src_uri)
            if hit is None:
                return html
            page.present_anchor_ids = set(hit.anchors)
            links = {}
            for src, anchors in hit.links.items():
                target = self.files.get_file_from_path(src)
                if target is not None:
                    links[target] = dict(anchors)
            page.links_to_anchors = links
            page.meta["template"] = CACHED_TEMPLATE
            return ""

        def on_env(self, env: Any, **_: Any) -> Any:
            env.loader = ChoiceLoader([DictLoader({CACHED_TEMPLATE: "cached"}), env.loader])
            return env

        @event_priority(-100)  # after the search plugin has indexed the page
        def on_page_context(self, context: Any, *, page: Any, config: Any, **_: Any) -> Any:
            entries = self._index(config)
            if entries is None:
                return context
            src = page.file.src_uri
            hit = self.hits.get(src)
            if hit is not None:
                del entries[self.mark :]  # an empty page may still have been indexed
                entries.extend(hit.search)  # read for this build: held by nothing else
            elif src in self.keys:
                self.found[src] = json.loads(json.dumps(entries[self.mark :]))
            self.mark = len(entries)
            return context

        @event_priority(-100)
        def on_post_page(self, output: str, *, page: Any, **_: Any) -> str:
            src = page.file.src_uri
            hit = self.hits.get(src)
            if hit is not None:
                return hit.html
            key = self.keys.get(src)
            if key is not None:
                links = {
                    f.src_uri: dict(sorted(a.items()))
                    for f, a in (page.links_to_anchors or {}).items()
                }
                cache.put(
                    key,
                    CachedPage.of(
                        output,
                        self.found.pop(src, []),
                        sorted(page.present_anchor_ids or ()),
                        dict(sorted(links.items())),
                    ),
                )
            return output

    return IncrementalPages()
