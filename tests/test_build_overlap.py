"""``controlbook build`` lays out the narratives while it builds the site (issue 20).

With worker processes, the narratives are written from a thread of the build while the
site's pages are rendered and converted; the PDFs are copied into the site once MkDocs is
done. These tests hold the build to what it promised before: the same site, every link to
a narrative checked, and a failure on either side failing the whole build with the
previous site untouched and nothing left running or lying around.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import pytest
from lxml import html

from generator.errors import ControlbookError
from generator.publish.build import build
from generator.resources import TEMPLATES
from generator.signing.verify import verify_pdfs
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.slow


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path, out: Path) -> list[str]:
    """Anything beside the output folder that a build made and should have removed."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(f".{out.name}") and p.name != f".{out.name}.lock"
    )


def narrative_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("narratives")]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example catalog (several narratives, so two worker processes), and an
    empty cache: every narrative is laid out while the site is built."""
    monkeypatch.setenv("CONTROLBOOK_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(EXAMPLE, tmp_path / "catalog")
    return tmp_path / "catalog"


def test_the_site_built_with_the_narratives_has_every_signed_pdf_it_links_to(
    example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = build(example, out, jobs=2)
    assert result.narratives is not None
    assert result.narratives.rendered == len(result.narratives.results)
    linked = set()
    for page in out.rglob("*.html"):
        tree = html.fromstring(page.read_bytes())
        for href in tree.xpath("//a/@href"):
            if href.endswith(".pdf"):
                linked.add((page.parent / href).resolve())
    assert linked, "no page links to a narrative"
    verified = verify_pdfs(sorted(linked), catalog=example, allow_development=True)
    assert all(v.signed and v.intact and v.whole_file for v in verified), verified
    assert {v.control for v in verified} == {r.control for r in result.narratives.results}
    for written in result.narratives.results:
        assert (out / "narratives" / written.path.name).read_bytes()  # copied, not moved away
    assert not narrative_threads()
    assert not leftovers(tmp_path, out)


def assert_fails_and_leaves_the_site(
    example: Path, tmp_path: Path, template: str, text: str, match: str
) -> None:
    """A build with ``template`` overridden by ``text`` fails with ``match``; the site of
    the build before it is unchanged, and no thread or scratch folder is left."""
    out = tmp_path / "site"
    build(example, out, pdfs=False)
    before = snapshot(out)
    overrides = tmp_path / "templates"
    (overrides / template).parent.mkdir(parents=True)
    (overrides / template).write_text(text, encoding="utf-8")
    with pytest.raises(ControlbookError, match=match):
        build(example, out, templates=overrides, jobs=2)
    assert snapshot(out) == before
    assert not narrative_threads()
    assert not leftovers(tmp_path, out)


def test_a_narrative_that_fails_while_the_site_is_built_fails_the_build(
    example: Path, tmp_path: Path
) -> None:
    original = (TEMPLATES / "pdf" / "narrative.html.j2").read_text(encoding="utf-8")
    hostile = original.replace("<body>", '<body><img src="file:///etc/hostname">')
    assert_fails_and_leaves_the_site(
        example, tmp_path, "pdf/narrative.html.j2", hostile, "file:///etc/hostname"
    )


def test_a_site_that_fails_while_the_narratives_are_laid_out_stops_them(
    example: Path, tmp_path: Path
) -> None:
    assert_fails_and_leaves_the_site(
        example,
        tmp_path,
        "site/index.md.j2",
        "{{ no_such_value }}\n",
        r"index\.md\.j2:1: 'no_such_value' is undefined",
    )
