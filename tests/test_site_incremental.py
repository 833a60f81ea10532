"""Rebuilding the site with the page cache gives the bytes a clean build gives.

Each test builds a copy of the example catalog, changes it, rebuilds into the same
folder with the warm cache, builds the changed catalog again from nothing (another
folder, an empty cache) and compares every file of the two sites byte for byte: pages,
sitemap, search index, assets. How many cache entries the rebuild wrote says how many
pages it rendered again.
"""

from __future__ import annotations

import hashlib
import shutil
import zlib
from pathlib import Path

import pytest

from generator.publish.build import build, site_cache
from generator.render.sitecache import CachedPage
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


def test_a_changed_control_description_renders_a_few_pages_and_equals_a_clean_build(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    first = build(catalog.path, site, pdfs=False)
    before = entries(site)
    assert len(before) == first.pages  # one entry per page

    catalog.replace(CONTROL, OBJECTIVE, "The revised Access Management Standard (cadence,")
    build(catalog.path, site, pdfs=False)

    rendered = entries(site) - before
    assert 1 <= len(rendered) <= 8, "only the pages showing the control are rendered again"
    assert len(entries(site)) == first.pages  # entries of the previous pages are dropped
    page = (site / "controls" / "ITGC-ACC-01.html").read_text(encoding="utf-8")
    assert "The revised Access Management Standard" in page
    index = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "The revised Access Management Standard" in index
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
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    catalog.replace("people.yaml", "name: Farah Haddad", "name: Farah Haddad-Lind")

    build(catalog.path, site, pdfs=False)

    pages = [p for p in site.rglob("*.html") if "Haddad-Lind" in p.read_text(encoding="utf-8")]
    assert len(pages) > 20  # the navigation names her on every page
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def _rewrite(entry: Path, change: bytes) -> None:
    """An entry whose HTML was altered, its recorded SHA-256 left as it was."""
    digest, _, packed = entry.read_bytes().partition(b"\n")
    body = zlib.decompress(packed).replace(b"Annual approval", change)
    entry.write_bytes(digest + b"\n" + zlib.compress(body))


def test_a_tampered_or_truncated_cache_entry_is_not_served(
    catalog: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build(catalog.path, site, pdfs=False)
    altered = []
    for entry in sorted(site_cache(site).glob("*.page")):
        data = zlib.decompress(entry.read_bytes().partition(b"\n")[2])
        if b"Annual approval" in data:
            altered.append(entry)
    assert len(altered) >= 2
    _rewrite(altered[0], b"Planted text")
    altered[1].write_bytes(altered[1].read_bytes()[:100])

    build(catalog.path, site, pdfs=False)

    assert not [p for p in site.rglob("*.html") if b"Planted text" in p.read_bytes()]
    assert_same_site(site, clean_build(catalog, tmp_path / "clean", monkeypatch))


def test_an_entry_is_read_back_only_whole_unaltered_and_under_its_own_key() -> None:
    page = CachedPage("<p>x</p>", [{"location": "a.html", "title": "A", "text": ""}], ["x"], {})
    data = page.to_bytes("k1")
    assert CachedPage.from_bytes(data, "k1") == page
    assert CachedPage.from_bytes(data, "k2") is None  # another page's entry
    assert CachedPage.from_bytes(data[:-3], "k1") is None  # truncated
    assert CachedPage.from_bytes(b"not an entry", "k1") is None
    digest, _, packed = data.partition(b"\n")
    body = zlib.decompress(packed).replace(b"<p>x</p>", b"<p>y</p>")
    assert CachedPage.from_bytes(digest + b"\n" + zlib.compress(body), "k1") is None
