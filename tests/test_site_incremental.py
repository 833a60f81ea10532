"""Rebuilding the site with the page cache gives the bytes a clean build gives.

Each test builds a copy of the example catalog, changes it, rebuilds into the same
folder with the warm cache, builds the changed catalog again from nothing (another
folder, an empty cache) and compares every file of the two sites byte for byte: pages,
sitemap, search index, assets. How many cache entries the rebuild wrote says how many
pages it rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.publish.build import build, site_cache
from generator.render.sitecache import CachedPage, PageCache
from generator.resources import TEMPLATES
from generator.views import CatalogViews
from generator.views.types import ControlView
from tests.conftest import EXAMPLE, CatalogDir

pytestmark = pytest.mark.slow

CONTROL = "controls/ITGC-ACC-01.yaml"
OBJECTIVE = "The Access Management Standard (review cadence, approval rules, SoD exceptions,"


@pytest.fixture
def catalog(tmp_path: Path) -> CatalogDir:
    target = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, target)
    return CatalogDir(target)


def files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def entries(out: Path, kind: str = ".page") -> set[str]:
    """The cache entries of the site built into ``out``: pages' HTML (``.page``) or
    their Markdown (``.md``)."""
    return {p.name for p in site_cache(out).iterdir() if p.suffix == kind}


def clean_build(catalog: CatalogDir, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalog built into a new folder with an empty cache."""
    with monkeypatch.context() as m:
        m.setenv("CONTROLBOOK_CACHE_DIR", str(out.parent / "empty-cache"))
        build(catalog.path, out, pdfs=False)
    return out


def assert_same_site(rebuilt: Path, clean: Path) -> None:
    ours, theirs = files(rebuilt), files(clean)
    for made in ("search/search_index.json", "sitemap.xml", "controls/ITGC-ACC-01.html"):
        assert made in ours
    assert sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)) == []


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the pages whose Markdown a build renders from their template (the
    others are taken from the cache), in the order they are rendered."""
    titles: list[str] = []
    put = PageCache.put_text

    def spy(self: PageCache, keys: list[str], text: str) -> None:
        titles.append(json.loads(text.split("\n", 2)[1].removeprefix("title: ")))
        put(self, keys, text)

    monkeypatch.setattr(PageCache, "put_text", spy)
    return titles


def test_a_changed_control_description_renders_a_few_pages_and_equals_a_clean_build(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]
) -> None:
    site = tmp_path / "site"
    first = build(catalog.path, site, pdfs=False)
    before = entries(site)
    assert len(before) == first.pages  # one HTML entry per page
    # one Markdown entry per page, and a second for each page showing a control's view: it
    # is kept under the key from the control's inputs and the key from its values
    assert first.pages < len(entries(site, ".md")) < 2 * first.pages
    markdown = len(entries(site, ".md"))
    assert len(rendered) == first.pages
    rendered.clear()

    catalog.replace(CONTROL, OBJECTIVE, "The revised Access Management Standard (cadence,")
    build(catalog.path, site, pdfs=False)

    assert "ITGC-ACC-01" in rendered
    assert not {"ITGC-BG-01", "Farah Haddad", "Rules"} & set(rendered)
    assert len(rendered) <= 4, "only the pages showing the objective are rendered again"
    converted = entries(site) - before
    assert 1 <= len(converted) <= 8, "only the pages showing the control are converted again"
    assert len(entries(site)) == first.pages  # old ones dropped
    assert len(entries(site, ".md")) == markdown
    page = (site / "controls" / "ITGC-ACC-01.html").read_text(encoding="utf-8")
    assert "The revised Access Management Standard" in page
    index = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "The revised Access Management Standard" in index
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_the_page_keys_know_each_control_view_by_its_inputs_and_pickle_few(
    catalog: CatalogDir,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[str],
    pickled_by_page_keys: list[object],
) -> None:
    """A control's view holds every decision of its reviews: the page keys take the digest
    of its inputs instead (``narrativekey.control_inputs``), so a rebuild pickles only the
    views of the pages whose inputs changed."""
    written = pickled_by_page_keys
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    catalog.replace(CONTROL, OBJECTIVE, "The revised Access Management Standard (cadence,")
    rendered.clear()
    written.clear()
    build(catalog.path, site, pdfs=False)
    assert "ITGC-ACC-01" in rendered
    assert "ITGC-BG-01" not in rendered
    views = CatalogViews(load_catalog(catalog.path), evaluate(load_catalog(catalog.path)))
    dashboard = {c.id for c in (*views.worst_controls, *views.unowned)}
    pickled = {v.id for v in written if isinstance(v, ControlView)}
    # the changed control's page and the dashboard's lists missed by inputs, and were
    # looked up by their values; no other control's view was pickled
    assert "ITGC-ACC-01" in pickled
    assert pickled <= {"ITGC-ACC-01"} | dashboard
    assert len(pickled) < len(views.controls) / 2
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_an_unchanged_catalog_rebuilds_from_the_cache_alone_with_the_same_bytes(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    before = entries(site)
    build(catalog.path, site, pdfs=False)
    assert entries(site) == before  # nothing rendered again
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_a_new_control_changes_the_navigation_and_every_page_is_rendered_again(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    before = entries(site)
    text = (catalog.path / CONTROL).read_text(encoding="utf-8")
    catalog.write("controls/ITGC-ACC-09.yaml", text.replace("ITGC-ACC-01", "ITGC-ACC-09"))

    second = build(catalog.path, site, pdfs=False)

    assert (site / "controls" / "ITGC-ACC-09.html").is_file()
    assert entries(site).isdisjoint(before)
    assert len(entries(site)) == second.pages
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_a_renamed_person_shown_on_many_pages_equals_a_clean_build(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]
) -> None:
    """The shared navigation changes: every page is converted again by MkDocs, but only
    the pages whose own Markdown names her are rendered again from their templates."""
    site = tmp_path / "site"
    first = build(catalog.path, site, pdfs=False)
    before = entries(site)
    rendered.clear()
    catalog.replace("people.yaml", "name: Farah Haddad", "name: Farah Haddad-Lind")

    build(catalog.path, site, pdfs=False)

    pages = [p for p in site.rglob("*.html") if "Haddad-Lind" in p.read_text(encoding="utf-8")]
    assert len(pages) > 20  # the navigation names her on every page
    assert entries(site).isdisjoint(before)
    assert {"Farah Haddad-Lind", "ITGC-ACC-01", "Accountability"} <= set(rendered)
    assert len(rendered) < first.pages // 2
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def rebuild_after(
    catalog: CatalogDir, tmp_path: Path, rendered: list[str], rel: str, old: str, new: str
) -> Path:
    """Build the site, replace ``old`` with ``new`` in the catalog file ``rel`` and build
    again; ``rendered`` then holds the pages the second build rendered."""
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    rendered.clear()
    catalog.replace(rel, old, new)
    build(catalog.path, site, pdfs=False)
    return site


def test_a_changed_owner_renders_every_page_showing_the_control_and_equals_a_clean_build(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]
) -> None:
    site = rebuild_after(
        catalog, tmp_path, rendered, CONTROL, "- person: f.haddad", "- person: n.adeyemi"
    )

    # the dashboard lists the control only if it has critical gaps or no valid owner
    shows_it = {"ITGC-ACC-01", "Controls", "Accountability"}
    assert shows_it | {"Farah Haddad", "Nadia Adeyemi"} <= set(rendered)
    assert "ITGC-BG-01" not in rendered
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_a_system_description_renders_that_system_s_pages_and_no_control_page(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]
) -> None:
    site = rebuild_after(
        catalog,
        tmp_path,
        rendered,
        "systems.yaml",
        "Company ERP: procure-to-pay",
        "Group ERP: procure-to-pay",
    )

    assert "SAP S/4HANA (production, client 100)" in rendered
    assert not [t for t in rendered if t.startswith("ITGC-")]
    page = (site / "systems" / "erp.html").read_text(encoding="utf-8")
    assert "Group ERP: procure-to-pay" in page
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_a_changed_template_renders_every_page_again(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]
) -> None:
    """A template another one includes (the macros) is part of every page's key."""
    overrides = tmp_path / "templates"
    (overrides / "site").mkdir(parents=True)
    macros = (TEMPLATES / "site" / "_macros.md.j2").read_text(encoding="utf-8")
    (overrides / "site" / "_macros.md.j2").write_text(macros, encoding="utf-8")
    site = tmp_path / "site"
    first = build(catalog.path, site, pdfs=False, templates=overrides)
    rendered.clear()
    build(catalog.path, site, pdfs=False, templates=overrides)
    assert rendered == []
    (overrides / "site" / "_macros.md.j2").write_text(macros + "\n", encoding="utf-8")

    build(catalog.path, site, pdfs=False, templates=overrides)

    assert len(rendered) == first.pages
    with monkeypatch.context() as m:
        m.setenv("CONTROLBOOK_CACHE_DIR", str(tmp_path / "empty-cache"))
        build(catalog.path, tmp_path / "clean", pdfs=False, templates=overrides)
    assert_same_site(site, tmp_path / "clean")


_KEYS = """
import json, sys
from pathlib import Path
from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.render.site import render_pages, site_environment
from generator.render.sitecache import PageCache
from generator.views import CatalogViews

catalog = load_catalog(Path(sys.argv[1]))
cache = PageCache(Path(sys.argv[2]))
render_pages(CatalogViews(catalog, evaluate(catalog)), site_environment(), cache=cache)
cache.commit()
print(json.dumps([cache.text_hits, cache.text_misses]))
"""


def test_page_keys_are_the_same_in_another_process_with_another_string_hash_seed(
    tmp_path: Path,
) -> None:
    """A set in a page's values would be written in another order by another process."""
    counts = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _KEYS, str(EXAMPLE), str(tmp_path / "cache")],
            env=env, capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        counts.append(json.loads(done.stdout))
    pages = counts[0][1]
    assert pages > 50
    assert counts == [[0, pages], [pages, 0]]


def _parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """An entry's recorded SHA-256, its compressed JSON and its compressed HTML."""
    digest, _, rest = data.partition(b"\n")
    stream = zlib.decompressobj()
    stream.decompress(rest)
    html = stream.unused_data
    return digest, rest[: len(rest) - len(html)], html


def _rewrite(entry: Path, change: bytes) -> None:
    """An entry whose HTML was altered, its recorded SHA-256s left as they were."""
    digest, meta, html = _parts(entry.read_bytes())
    altered = zlib.decompress(html).replace(b"Annual approval", change)
    entry.write_bytes(digest + b"\n" + meta + zlib.compress(altered))


def test_a_tampered_or_truncated_cache_entry_is_not_served(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    altered = []
    for entry in sorted(site_cache(site).glob("*.page")):
        if b"Annual approval" in zlib.decompress(_parts(entry.read_bytes())[2]):
            altered.append(entry)
    assert len(altered) >= 2
    _rewrite(altered[0], b"Planted text")
    altered[1].write_bytes(altered[1].read_bytes()[:100])

    build(catalog.path, site, pdfs=False)

    assert not [p for p in site.rglob("*.html") if b"Planted text" in p.read_bytes()]
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_an_entry_is_read_back_only_whole_unaltered_and_under_its_own_key() -> None:
    page = CachedPage.of("<p>x</p>", [{"location": "a.html", "title": "A", "text": ""}], ["x"], {})
    data = page.to_bytes("k1")
    assert CachedPage.from_bytes(data, "k1") == page
    assert CachedPage.from_bytes(data, "k1").html == "<p>x</p>"  # type: ignore[union-attr]
    assert CachedPage.from_bytes(data, "k2") is None  # another page's entry
    assert CachedPage.from_bytes(data[:-3], "k1") is None  # truncated
    assert CachedPage.from_bytes(b"not an entry", "k1") is None
    digest, meta, html = _parts(data)
    body = zlib.decompress(html).replace(b"<p>x</p>", b"<p>y</p>")
    assert CachedPage.from_bytes(digest + b"\n" + meta + zlib.compress(body), "k1") is None
    search = zlib.decompress(meta).replace(b'"A"', b'"B"')
    assert CachedPage.from_bytes(digest + b"\n" + zlib.compress(search) + html, "k1") is None


def test_a_rebuild_keeps_the_keys_from_values_of_pages_it_found_by_their_inputs(
    catalog: CatalogDir, tmp_path: Path, rendered: list[str]
) -> None:
    """A page found by its inputs keeps its entry under the key from its values: a later
    change to a file every control's inputs hash (a system's description) still renders
    no control page, as it shows nothing of it."""
    site = rebuild_after(catalog, tmp_path, rendered, CONTROL, OBJECTIVE, "The revised (")
    assert "ITGC-ACC-01" in rendered
    assert "ITGC-BG-01" not in rendered
    rendered.clear()
    catalog.replace("systems.yaml", "Company ERP: procure-to-pay", "Group ERP: procure-to-pay")
    build(catalog.path, site, pdfs=False)
    assert "SAP S/4HANA (production, client 100)" in rendered
    assert not [t for t in rendered if t.startswith("ITGC-")]
