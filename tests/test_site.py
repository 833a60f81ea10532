"""The catalog site: built for real with MkDocs, then read back as HTML.

The example catalog is built once per module; each test checks real content in the
generated pages (not just that files exist).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner
from lxml import html

from generator.cli import main
from generator.errors import CatalogInvalid
from generator.publish.build import build
from tests.conftest import EXAMPLE, CatalogDir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "site"
    build(EXAMPLE, out)
    return out


def page(site: Path, rel: str) -> html.HtmlElement:
    return html.fromstring((site / rel).read_bytes())


def text(site: Path, rel: str) -> str:
    return " ".join(page(site, rel).text_content().split())


def test_each_control_page_links_its_signed_narrative(site: Path) -> None:
    links = page(site, "controls/ITGC-LOG-01.html").xpath("//a[contains(@href, '.pdf')]/@href")
    assert links == ["../narratives/ITGC-LOG-01.pdf"]
    assert (site / "narratives" / "ITGC-LOG-01.pdf").read_bytes().startswith(b"%PDF-")


def test_a_known_finding_is_on_its_control_page_with_rule_and_source_line(site: Path) -> None:
    content = text(site, "controls/ITGC-LOG-01.html")
    assert "OWN-1" in content
    assert "owner 'it-security-team' is a team; a control owner must be a named person" in content
    assert "controls/controls/ITGC-LOG-01.yaml:17" in content


def test_dashboard_counts_equal_the_check_json_counts(site: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--format", "json"])
    summary = json.loads(result.output)["summary"]
    content = text(site, "index.html")
    assert f"{summary['open']} open findings ({summary['waived']} waived)" in content
    chart = page(site, "index.html").xpath("//svg[@aria-label='Open findings by severity']")[0]
    labels = [t.text for t in chart.xpath(".//*[local-name()='text']")]
    shown = dict(zip(labels[0::2], (int(v) for v in labels[1::2]), strict=True))
    assert shown == summary["by_severity"]


def test_the_coverage_page_lists_pr_aa_05_with_its_controls(site: Path) -> None:
    from generator.catalog.loader import load_catalog

    catalog = load_catalog(EXAMPLE)
    expected = sorted(c.id for c in catalog.controls.values() if "PR.AA-05" in c.mappings.csf)
    assert expected, "the example maps some controls to PR.AA-05"
    row = page(site, "coverage/csf.html").xpath("//tr[td[1][normalize-space()='PR.AA-05']]")[0]
    assert [a.text for a in row.xpath(".//a")] == expected


def test_the_findings_table_has_every_finding_with_filter_attributes(site: Path) -> None:
    rows = page(site, "findings/index.html").xpath("//table[@id='cb-findings']/tbody/tr")
    assert len(rows) == 21  # 20 open + 1 waived
    waived = [r for r in rows if r.get("data-severity") == "waived"]
    assert [r.get("data-rule") for r in waived] == ["CAD-2"]
    assert {r.get("data-control") for r in rows} >= {"ITGC-LOG-01", "ITGC-UAR-HRIS"}


def test_every_rule_has_a_page_from_its_docstring(site: Path) -> None:
    from generator.evaluation.rules import RULES

    for rule in RULES:
        content = text(site, f"rules/{rule.id}.html")
        assert rule.name in content
        assert "Fix:" in content


def test_no_broken_internal_links(site: Path) -> None:
    broken = []
    for file in site.rglob("*.html"):  # 404.html too: its links are relative like the rest
        tree = html.fromstring(file.read_bytes())
        for link in tree.xpath("//a/@href | //link/@href | //script/@src | //img/@src"):
            parsed = urlparse(link)
            if link.startswith("/"):
                broken.append(f"{file.relative_to(site)} -> {link} (root-absolute)")
                continue
            if parsed.scheme or link.startswith(("#", "mailto:")) or not parsed.path:
                continue
            target = (file.parent / unquote(parsed.path)).resolve()
            if not target.exists():
                broken.append(f"{file.relative_to(site)} -> {link}")
    assert broken == []


def test_no_page_loads_anything_from_the_internet(site: Path) -> None:
    for file in site.rglob("*.html"):
        tree = html.fromstring(file.read_bytes())
        external = [
            u
            for u in tree.xpath("//script/@src | //link[@rel='stylesheet']/@href | //img/@src")
            if urlparse(u).scheme in ("http", "https")
        ]
        assert external == [], file


def test_rendering_twice_gives_identical_files(site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build(EXAMPLE, again)

    def digest(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digest(again) == digest(site)


def test_user_text_shows_literally_and_hostile_urls_are_not_links(
    starter: CatalogDir, tmp_path: Path
) -> None:
    hostile = "<script>alert(1)</script> {{ 7*7 }} {% raw %} *bold* [x](javascript:alert(1)) | pipe"
    starter.replace(
        "controls/UAR-APP-01.yaml",
        "title: Quarterly user access review of the billing application",
        f"title: '{hostile}'",
    )
    # (a repo_url such as 'javascript:alert(1)' is refused when the catalog is loaded:
    # tests/test_bad_inputs.py::test_url_settings_must_be_plain_web_addresses)
    out = tmp_path / "site"
    build(starter.path, out, pdfs=False)
    raw = (out / "controls/UAR-APP-01.html").read_text()
    assert "<script>alert(1)" not in raw
    title = page(out, "controls/UAR-APP-01.html").xpath("//h1")[0].text_content()
    assert title == f"UAR-APP-01: {hostile}"
    hrefs = page(out, "controls/UAR-APP-01.html").xpath("//a/@href")
    assert not [h for h in hrefs if h.lower().startswith("javascript")]


def test_a_failed_build_leaves_the_previous_site_intact(
    starter: CatalogDir, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(starter.path, out, pdfs=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    starter.replace("controls/UAR-APP-01.yaml", "frequency: quarterly", "frequency: [")
    with pytest.raises(CatalogInvalid):
        build(starter.path, out, pdfs=False)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".site.")] or all(
        p.name.endswith(".lock") for p in out.parent.iterdir() if p.name.startswith(".site.")
    )


def test_templates_can_be_overridden_by_name(starter: CatalogDir, tmp_path: Path) -> None:
    overrides = tmp_path / "mine" / "site"
    overrides.mkdir(parents=True)
    shutil.copy(Path("templates/site/index.md.j2"), overrides / "index.md.j2")
    original = (overrides / "index.md.j2").read_text()
    (overrides / "index.md.j2").write_text(
        original.replace("## Ownership health", "## Who owns what")
    )
    out = tmp_path / "site"
    build(starter.path, out, templates=tmp_path / "mine", pdfs=False)
    assert "Who owns what" in text(out, "index.html")


def test_pages_exist_per_control_rule_system_and_role_holder_only(site: Path) -> None:
    from generator.catalog.loader import load_catalog

    catalog = load_catalog(EXAMPLE)
    controls = {p.stem for p in (site / "controls").glob("*.html")} - {"index"}
    assert controls == set(catalog.controls)
    systems = {p.stem for p in (site / "systems").glob("*.html")} - {"index"}
    assert systems == set(catalog.systems)
    people = {p.stem for p in (site / "people").glob("*.html")} - {"index"}
    assert people < set(catalog.people)  # role holders only, never the whole directory
    assert re.search(r"\d+ of 24 controls have a valid named owner today", text(site, "index.html"))


def test_each_review_lists_its_facts_as_separate_items_and_names_with_spaces(site: Path) -> None:
    from generator.catalog.loader import load_catalog

    catalog = load_catalog(EXAMPLE)
    tree = page(site, "controls/ITGC-UAR-ERP.html")
    reviews = [r for r in catalog.reviews.values() if r.control == "ITGC-UAR-ERP"]
    assert reviews
    for review in reviews:
        items = tree.xpath(f"//h3[normalize-space()='{review.id}']/following-sibling::ul[1]/li")
        texts = [" ".join(li.text_content().split()) for li in items]
        starts = ["Period ", "Population ", "Evidence: ", "sha256 ", "Decisions: "]
        assert [t.split(" ")[0] + " " for t in texts[:5]] == starts, texts
        assert all(not re.search(r"\)- |\S- (Population|Evidence|Decisions)", t) for t in texts)
        reviewers = next(li for li in items if li.text_content().startswith("Population"))
        names = [catalog.people[p].name for p in review.reviewers]
        assert reviewers.text_content().split("reviewers: ", 1)[1].strip() == ", ".join(names)
    admins = page(site, "systems/erp.html").xpath(
        "//tr[td[1][normalize-space()='Administrators']]/td[2]"
    )
    assert ", " in admins[0].text_content()


HTML_VALIDATE = "html-validate@10.9.0"  # the newest that runs on Debian 12's Node 20 too
"""Installed with npm into build/ (git-ignored) on first use: a test tool, not vendored."""

# html-validate rules the theme's own markup breaks (header, navigation, search, <title>),
# accepted outside the page content only; any other rule fails, and so does any message
# inside the content, which the project's templates make.
HTML_THEME_KNOWN = {
    "attribute-allowed-values": 'navigation section labels with tabindex=""',
    "doctype-style": "<!doctype html> in lower case",
    "long-title": "<title> is the page title and the site name (over 70 characters)",
    "no-trailing-whitespace": "the theme's templates indent with trailing spaces",
    "unique-landmark": "several <nav> landmarks without a unique label",
    "valid-autocomplete": "autocomplete=off on the theme's checkbox toggles",
    "valid-id": "the theme's toggle IDs start with underscores (__drawer, __nav_1)",
    "wcag/h32": "the search <form> has no submit button",
}


def html_validate() -> list[str]:
    """The command that runs html-validate, installing it first when needed."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        pytest.skip("html-validate needs Node.js and npm (apt-get install npm)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    major, minor = (int(n) for n in version.strip().lstrip("v").split(".")[:2])
    if (major, minor) < (20, 19):
        pytest.skip(f"{HTML_VALIDATE} needs Node.js 20.19 or later (this is {version.strip()})")
    prefix = Path(__file__).resolve().parents[1] / "build" / "node" / HTML_VALIDATE
    script = prefix / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
    if not script.exists():
        install = [npm, "install", "--prefix", str(prefix), HTML_VALIDATE]
        done = subprocess.run(
            [*install, "--no-audit", "--no-fund", "--silent"], capture_output=True, text=True
        )
        if done.returncode != 0 or not script.exists():
            pytest.skip(f"could not install {HTML_VALIDATE} with npm: {done.stderr[-500:]}")
    return [node, str(script)]


def test_html_validate_finds_nothing_in_the_project_s_markup(site: Path, tmp_path: Path) -> None:
    command = html_validate()
    config = tmp_path / "htmlvalidate.json"
    config.write_text(json.dumps({"extends": ["html-validate:recommended"]}))
    files = sorted(str(p) for p in site.rglob("*.html"))
    output = tmp_path / "report.json"  # a file: Node cuts a large report on a pipe short
    run = subprocess.run(
        [*command, "--config", str(config), "--formatter", f"json={output}", *files],
        capture_output=True,
        text=True,
    )
    assert run.returncode in (0, 1), run.stderr  # 1: messages found; more: it failed
    report = json.loads(output.read_text(encoding="utf-8")) if output.exists() else []
    ours, unknown = [], set()
    for result in report:
        path = Path(result["filePath"])
        lines = path.read_text(encoding="utf-8").splitlines()
        # the page content: <article class="md-content__inner ..."> to </article>
        # (404.html's content is the theme's)
        start = next(
            (n for n, line in enumerate(lines, 1) if '<article class="md-content__inner' in line),
            0,
        )
        end = next((n for n, line in enumerate(lines, 1) if "</article>" in line), 0)
        if path.name == "404.html":
            start = end = 0
        for message in result["messages"]:
            where = f"{path.relative_to(site)}:{message['line']}"
            # the theme's template indents the lines around the content with blanks
            blank = not lines[message["line"] - 1].strip()
            if start <= message["line"] <= end and start and not blank:
                ours.append(f"{where}: {message['ruleId']}: {message['message']}")
            elif message["ruleId"] not in HTML_THEME_KNOWN:
                unknown.add(f"{message['ruleId']} ({where}: {message['message']})")
    assert ours == []
    assert sorted(unknown) == [], "a new theme problem: fix it or list it in HTML_THEME_KNOWN"


def test_content_has_no_inline_style_no_empty_header_and_labelled_filters(site: Path) -> None:
    styled, empty = [], []
    for file in sorted(site.rglob("*.html")):
        tree = html.fromstring(file.read_bytes())
        rel = file.relative_to(site).as_posix()
        styled += [f"{rel}: <{e.tag}>" for e in tree.xpath("//article//*[@style]")]
        empty += [rel for _ in tree.xpath("//article//th[not(normalize-space())]")]
    assert styled == []  # colours come from the stylesheet's classes
    assert empty == []  # every column says what it holds
    cells = page(site, "coverage/csf.html").xpath("//span[contains(@class, 'cb-heat')]/@class")
    assert {c.split()[-1] for c in cells} <= {"cb-heat-clean", "cb-heat-gaps", "cb-heat-none"}
    filters = page(site, "findings/index.html").xpath("//*[@data-cb-filter-for]//select")
    assert len(filters) == 4
    for select in filters:
        label = select.getparent()
        assert label.tag == "label"
        assert label.text.strip() == select.get("name").capitalize()


def svg_nodes(tree: html.HtmlElement, klass: str, name: str) -> list[html.HtmlElement]:
    """Elements named ``name`` inside the page's inline SVG of class ``klass``."""
    return tree.xpath(
        f"//*[local-name()='svg'][contains(@class, '{klass}')]//*[local-name()='{name}']"
    )


def test_the_csf_heat_map_counts_controls_and_shows_the_worst_status(site: Path) -> None:
    from generator.catalog.loader import load_catalog
    from generator.evaluation.evaluate import evaluate
    from generator.evaluation.status import control_status
    from generator.references import load_csf

    catalog = load_catalog(EXAMPLE)
    evaluation = evaluate(catalog)
    status = {c.id: str(control_status(catalog, evaluation, c)) for c in catalog.controls.values()}
    csf = load_csf()
    tree = page(site, "coverage/csf.html")
    svg = tree.xpath("//*[local-name()='svg'][contains(@class, 'cb-heatmap')]")[0]
    title_id = svg.get("aria-labelledby")
    assert svg.xpath(f".//*[local-name()='title'][@id='{title_id}']")[0].text
    cells = {
        a.xpath("string(*[local-name()='text'][1])"): a for a in svg_nodes(tree, "cb-heatmap", "a")
    }
    categories = [c for f in csf.functions for c in csf.categories_of(f.id)]
    assert list(cells) == [c.id for c in categories]
    worst_first = ["open findings", "not assessed", "clean"]
    for category in categories:
        ids = {s.id for s in csf.subcategories_of(category.id)} | {category.id}
        mapped = {c.id for c in catalog.controls.values() if ids & set(c.mappings.csf)}
        held = {status[c] for c in mapped}
        worst = next((s for s in worst_first if s in held), "not covered")
        cell = cells[category.id]
        words = [t.text for t in cell.xpath("*[local-name()='text']")]
        assert words[1] == (f"{len(mapped)} control" + ("" if len(mapped) == 1 else "s"))
        assert words[2] == worst
        name = cell.xpath("string(*[local-name()='title'])")  # the link's accessible name
        assert name.startswith(f"{category.id} {category.name}: ")
        target = cell.get("href").removeprefix("#")
        assert tree.xpath(f"//tr[@id='{target}']/td[1]")[0].text_content().strip() == category.id
    fallback = tree.xpath("//details[contains(@class, 'cb-fallback')]//tbody/tr")
    assert len(fallback) == len(categories)


def test_the_sod_picture_marks_held_conflicts_and_links_each_to_its_judgement(site: Path) -> None:
    from generator.catalog.loader import load_catalog
    from generator.evaluation.evaluate import evaluate

    evaluation = evaluate(load_catalog(EXAMPLE))
    conflicts = evaluation.context.access.conflicts
    assert conflicts, "the example holds conflicts"
    tree = page(site, "sod.html")
    diamonds = [
        p for p in svg_nodes(tree, "cb-sodmap", "path") if "cb-sod-conflict" in p.get("class")
    ]
    assert len(diamonds) == 2 * len(conflicts) + 1  # and one in the legend
    arcs = [p for p in svg_nodes(tree, "cb-sodmap", "path") if p.get("class") == "cb-sod-pair"]
    assert len(arcs) == 3  # the example's rule sets define three conflicting pairs
    links = svg_nodes(tree, "cb-sodmap", "a")
    assert len(links) == len(conflicts)
    for link, held in zip(links, conflicts, strict=True):
        target, fragment = link.get("href").split("#")
        assert link.get("aria-label").endswith(link.xpath("string(.)"))
        row = page(site, target).xpath(f"//*[@id='{fragment}']")[0]
        text = " ".join(row.text_content().split())
        if target == "exceptions.html":
            assert link.xpath("string(.)") == f"exception {text}"
        else:  # the open finding about this conflict (no exception, or an expired one)
            assert target == "findings/index.html"
            assert row.get("data-rule") in {"SOD-3", "EXC-3"}
            assert held.person in text


def test_the_dashboard_shows_the_year_quarter_by_quarter(site: Path) -> None:
    from datetime import date

    from generator.catalog.loader import load_catalog
    from generator.evaluation.evaluate import evaluate

    catalog = load_catalog(EXAMPLE)
    evaluation = evaluate(catalog)
    tree = page(site, "index.html")
    heading = "//h2[normalize-space()='The year at a glance']"
    tables = tree.xpath(f"{heading}/following::table")
    trend = [
        [td.text_content().strip() for td in tr.xpath("td")]
        for tr in tables[0].xpath(".//tbody/tr")
    ]
    # one row per quarter end before the as-of date, then the as-of date (here a quarter end)
    assert [row[0] for row in trend] == ["2026-03-31", "2026-06-30", "2026-09-30"]
    assert trend[-1][1] == "Q3 end, as of"
    for row in trend:
        counts = evaluate(catalog, date.fromisoformat(row[0])).by_severity()
        assert [int(n) for n in row[2:6]] == list(counts.values())
        assert int(row[6]) == sum(counts.values())
    assert int(trend[-1][6]) == len(evaluation.open)
    chart = tree.xpath(
        "//*[local-name()='svg'][@aria-label='Open findings by severity at each quarter end']"
    )[0]
    texts = [t.text for t in chart.xpath(".//*[local-name()='text'][@font-weight='700']")]
    assert texts == [row[6] for row in trend]  # each bar's total
    # reviews: missing ones are CAD-1's findings, late ones CAD-2's (open or waived)
    reviews = [
        [td.text_content().strip() for td in tr.xpath("td")]
        for tr in tables[1].xpath(".//tbody/tr")
    ]
    assert [row[0] for row in reviews] == ["Q1", "Q2", "Q3"]
    for row in reviews:
        assert int(row[2]) == int(row[3]) + int(row[4]) + int(row[5])
    by_rule = {r: sum(1 for f in evaluation.findings if f.rule == r) for r in ("CAD-1", "CAD-2")}
    assert sum(int(row[5]) for row in reviews) == by_rule["CAD-1"]
    assert sum(int(row[4]) for row in reviews) == by_rule["CAD-2"]
    assert tree.xpath(
        "//*[local-name()='svg'][@aria-label='Reviews due by the as-of date, by quarter of their due date']"
    )


def search_docs(site: Path) -> list[dict[str, str]]:
    """The entries of the built search index (one per page section)."""
    return json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]


def found(docs: list[dict[str, str]], term: str) -> list[dict[str, str]]:
    """The entries whose title or text holds ``term`` as a whole word (as search finds it)."""
    word = re.compile(rf"(?<![\w.@-]){re.escape(term)}(?![\w@-])")
    return [d for d in docs if word.search(d["title"]) or word.search(d["text"])]


def test_search_snippets_keep_table_cells_apart(site: Path) -> None:
    docs = search_docs(site)
    findings = next(d for d in docs if d["location"] == "findings/index.html")
    # the row of BRK-1 (high, rule, control, owner...): each cell a word of its own
    assert re.search(r"\bhigh BRK-1 ITGC-BG-01 z\.ali\b", findings["text"]), findings["text"]
    assert "highBRK-1" not in findings["text"]
    assert "All severities" not in findings["text"]  # the filter bar is not indexed
    sod = next(d for d in docs if d["location"] == "sod.html#person-x-duty-matrix")
    assert "sod-p2pcreate-vendor" not in sod["text"]
    assert re.search(r"\bsod-p2p create-vendor\b", sod["text"])
    for doc in docs:  # no cell, option or chart label runs into the next one anywhere
        assert not re.search(r"</(td|th|li|option)>\S", doc["text"]), doc["location"]


def test_search_separators_part_cells_and_lines_but_keep_link_text() -> None:
    from generator.render.site import search_separators

    assert search_separators("<tr><td>high</td><td>BRK-1</td></tr><tr><td>a<br>b</td></tr>") == (
        "<tr><td>high</td>\n<td>BRK-1</td></tr>\n<tr><td>a<br>\nb</td></tr>"
    )
    unchanged = "<a href='x'><text>finding SOD-3</text></a>, <td>a</td>\n<td>b</td>"
    assert search_separators(unchanged) == unchanged


def test_blank_lines_go_except_where_white_space_is_shown_code_or_content() -> None:
    from generator.render.mkdocsplugins import without_blank_lines

    kept = [
        "<pre>a\n\n  \nb</pre>",
        "<PRE class='x'>a\n\nb</PRE>",
        "<textarea>a\n\nb</textarea>",
        "<script>let s = `a\n\nb`;</script>",
        "<style>\n\n</style>",
        "<article class='md-content'>\n\n<div>\n\n</div>\n\n</article>",
        "<article>\n<article>\n\n</article>\n\n</article>",  # the last one ends it
    ]
    for element in kept:
        page = f"<div>\n   \n\t\n  {element}\n\n</div>\n"
        assert without_blank_lines(page) == f"<div>\n  {element}\n</div>\n", element
    # only its own closing tag ends an element; one never closed keeps the rest as written
    assert without_blank_lines("<pre>\n\n</prefix>\n\n</pre>\n\n") == (
        "<pre>\n\n</prefix>\n\n</pre>\n"
    )
    assert without_blank_lines("<p>\n\n<script>\n\n") == "<p>\n<script>\n\n"
    # an element name that merely starts like one is not kept
    assert without_blank_lines("<presenter>\n\n</presenter>") == "<presenter>\n</presenter>"


def _shape(tree: html.HtmlElement) -> list[tuple[Any, ...]]:
    """Every element in order with its attributes and its text and tail, each run of white
    space read as one space, as a browser lays it out; ``pre``, ``textarea``, ``script``,
    ``style`` and ``article`` exactly as written."""
    found: list[tuple[Any, ...]] = []
    for node in tree.iter():
        if not isinstance(node.tag, str):
            found.append(("comment", node.text))
            continue
        inside = any(a.tag in {"pre", "textarea", "script", "style", "article"} for a in (
            node, *node.iterancestors()
        ))  # fmt: skip
        text, tail = node.text or "", node.tail or ""
        if not inside:
            text = re.sub(r"\s+", " ", text)
        found.append((node.tag, sorted(node.attrib.items()), text, re.sub(r"\s+", " ", tail)))
    return found


def test_pages_without_blank_lines_read_as_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site is written without the theme's blank lines (seven in ten bytes of a page
    at full size): every page holds the same elements, attributes and text, laid out the
    same, as when MkDocs writes them as the theme renders them."""
    from mkdocs.plugins import BasePlugin

    compact = tmp_path / "compact"
    build(EXAMPLE, compact, pdfs=False)
    monkeypatch.setattr("generator.render.site.blank_lines_plugin", lambda: BasePlugin())
    as_rendered = tmp_path / "as-rendered"
    build(EXAMPLE, as_rendered, pdfs=False)
    pages = sorted(p.relative_to(compact) for p in compact.rglob("*.html"))
    assert pages == sorted(p.relative_to(as_rendered) for p in as_rendered.rglob("*.html"))
    smaller = 0
    for rel in pages:
        written, rendered = (compact / rel).read_bytes(), (as_rendered / rel).read_bytes()
        outside = re.sub(rb"(?s)<(pre|script|style|article)\b.*?</\1>", b"<kept>", written)
        assert not re.search(rb"\n[ \t]*\n", outside), rel
        assert _shape(html.fromstring(written)) == _shape(html.fromstring(rendered)), rel
        smaller += len(rendered) - len(written)
    assert smaller > sum((as_rendered / rel).stat().st_size for rel in pages) / 5  # 7/10 at scale


def erp_state() -> list[tuple[str, str, str, str]]:
    """The example's ERP accounts at the as-of date: (account, person, type, entitlement)."""
    with (EXAMPLE / "extracts" / "erp" / "2026-09-15.csv").open(encoding="utf-8") as handle:
        return [
            (r["account"], r["person"], r["account_type"], r["entitlement"])
            for r in csv.DictReader(handle)
        ]


def test_the_system_page_lists_each_account_of_the_state_once(site: Path) -> None:
    from generator.catalog.loader import load_catalog

    people = load_catalog(EXAMPLE).people
    rows = erp_state()
    accounts = sorted({a for a, *_ in rows})
    tree = page(site, "systems/erp.html")
    heading = "//h2[normalize-space()='Accounts in the state at the as-of date']"
    table = tree.xpath(f"{heading}/following::table[1]")[0]
    listed = [
        [td.text_content().strip() for td in tr.xpath("td")] for tr in table.xpath(".//tbody/tr")
    ]
    assert [row[0] for row in listed] == accounts  # one row per account, sorted
    assert f"{len(accounts)} account(s) in the extracts above" in text(site, "systems/erp.html")
    by_account = {row[0]: row for row in listed}
    for account in accounts:
        mine = [r for r in rows if r[0] == account]
        person = mine[0][1]
        expected_person = people[person].name if person in people else person or "no person"
        assert by_account[account][1].startswith(expected_person), account
        assert by_account[account][3] == ", ".join(sorted({r[3] for r in mine}))
    # a person with a page is linked to it
    links = table.xpath(".//a/@href")
    assert "../people/j.whitaker.html" in links


def test_a_system_over_the_threshold_lists_the_first_accounts_and_says_how_many_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator.catalog.loader import load_catalog
    from generator.evaluation.evaluate import evaluate
    from generator.render import site as site_module
    from generator.views import CatalogViews
    from generator.views import build as views_build

    monkeypatch.setattr(views_build, "LISTED", 3)
    monkeypatch.setattr(site_module, "LISTED", 3)
    catalog = load_catalog(EXAMPLE)
    views = CatalogViews(catalog, evaluate(catalog))
    pages = site_module.render_pages(views, site_module.site_environment())
    erp = next(p for p in pages if p.path == "systems/erp.md").text
    accounts = sorted({a for a, *_ in erp_state()})
    assert "A system page lists at most 3 accounts: these are the first 3; " in erp
    assert f"{len(accounts) - 3} more are in the extracts." in erp
    section = erp.split("## Accounts in the state")[1].split("## Open findings")[0]
    table = html.fromstring(section[section.index("<table>") :])
    listed = [tr.xpath("td")[0].text_content() for tr in table.xpath(".//tbody/tr")]
    assert listed == accounts[:3]
    control = next(p for p in pages if p.path == "controls/ITGC-UAR-ERP.md").text
    assert "A review lists at most 3 decisions: these are the first 3 of its" in control


def _control_pages(monkeypatch: pytest.MonkeyPatch, most: int) -> tuple[dict[str, str], Any]:
    from generator.catalog.loader import load_catalog
    from generator.evaluation.evaluate import evaluate
    from generator.render import site as site_module
    from generator.views import CatalogViews
    from generator.views import build as views_build

    monkeypatch.setattr(views_build, "ALL_DECISIONS_MAX", most)
    monkeypatch.setattr(site_module, "ALL_DECISIONS_MAX", most)
    catalog = load_catalog(EXAMPLE)
    views = CatalogViews(catalog, evaluate(catalog))
    pages = site_module.render_pages(views, site_module.site_environment())
    return {p.path: p.text for p in pages if p.path.startswith("controls/")}, catalog


def _decision_rows(text: str, review: str) -> list[str]:
    section = text.split(f"### {review}")[1].split("\n### ")[0]
    return [
        unescape(line.split(" | ")[0].lstrip("| "))
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| Account")
    ]


def test_a_large_review_lists_the_decisions_that_change_access_and_points_to_its_items_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hundreds of keeps per quarter are not page rows: the revokes, modifies and missing
    decisions are, with the count of keeps and the file that holds every decision."""
    pages, catalog = _control_pages(monkeypatch, 2)
    review = next(
        r
        for r in catalog.reviews.values()
        if r.items_file
        and len(r.items) > 2
        and any(i.decision and i.decision != "keep" for i in r.items)
    )
    text = pages[f"controls/{review.control}.md"]
    changing = [i.account for i in review.items if i.decision is None or i.decision != "keep"]
    keeps = [i for i in review.items if i.decision == "keep"]
    assert _decision_rows(text, review.id) == changing
    assert f"its {len(keeps)} keep decision(s) are not listed" in text
    assert f"every decision is in <code>{review.items_file.file}</code>" in text
    assert "With more than 2 items, a review lists here" in text


def test_a_review_of_exactly_the_threshold_still_lists_every_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator.catalog.loader import load_catalog

    review = max(load_catalog(EXAMPLE).reviews.values(), key=lambda r: len(r.items))
    pages, _ = _control_pages(monkeypatch, len(review.items))
    text = pages[f"controls/{review.control}.md"]
    assert _decision_rows(text, review.id) == [i.account for i in review.items]
    assert (
        "keep decision(s) are not listed"
        not in text.split(f"### {review.id}")[1].split("\n### ")[0]
    )


def test_review_decisions_are_listed_with_the_person_behind_each_account(site: Path) -> None:
    tree = page(site, "controls/ITGC-PAR-ERP.html")
    heading = "//h3[normalize-space()='PAR-ERP-2026Q1']"
    table = tree.xpath(f"{heading}/following::table[1]")[0]
    rows = {
        tr.xpath("td")[0].text_content().strip(): [
            td.text_content().strip() for td in tr.xpath("td")
        ]
        for tr in table.xpath(".//tbody/tr")
    }
    # SOD-1's finding: k.dubois decided on their own account
    assert rows["ADM_KDUBOIS"][1] == "Karine Dubois"
    assert rows["ADM_KDUBOIS"][4] == "Karine Dubois"


def test_people_accounts_and_entitlements_are_found_by_search_with_readable_snippets(
    site: Path,
) -> None:
    docs = search_docs(site)
    state = "systems/erp.html#accounts-in-the-state-at-the-as-of-date"
    for term in ("BKOWALSKI", "Bartosz Kowalski", "Z_P2P_VENDOR_MAINT", "BATCH_CLOSE"):
        assert state in [d["location"] for d in found(docs, term)], term
    entry = next(d for d in docs if d["location"] == state)
    assert (
        "BKOWALSKI Bartosz Kowalski employee "
        "Z_P2P_INVOICE_ENTRY, Z_P2P_PAYMENT_RELEASE, Z_P2P_VENDOR_MAINT"
    ) in entry["text"]
    # every account, person value and entitlement of every system's state is findable
    from generator.catalog.loader import load_catalog

    catalog = load_catalog(EXAMPLE)
    texts = " ".join(d["text"] for d in docs if d["location"].startswith("systems/"))
    for system in catalog.systems.values():
        for extract in system.extracts:
            if extract.file and extract.file.endswith("2026-09-15.csv"):
                with (EXAMPLE / extract.file).open(encoding="utf-8") as handle:
                    for row in csv.DictReader(handle):
                        assert row["account"] in texts
                        assert row["entitlement"] in texts
                        person = catalog.people.get(row["person"])
                        assert (person.name if person else row["person"]) in texts


def test_the_nhi_coverage_page_has_a_heat_map_of_the_ten_risks_linking_to_their_rows(
    site: Path,
) -> None:
    tree = page(site, "coverage/nhi.html")
    (svg,) = tree.xpath("//*[local-name()='svg'][contains(@class, 'cb-heatmap')]")
    links = svg.xpath(".//*[local-name()='a']/@href")
    assert len(links) == 10
    for href in links:
        assert tree.xpath(f"//tr[@id='{href.lstrip('#')}']"), href
    labels = svg.xpath(".//*[local-name()='a']/*[local-name()='title']/text()")
    assert any(label.startswith("NHI1:2025 ") for label in labels)


def test_pages_given_from_memory_come_in_the_order_of_mkdocs_walk_of_a_docs_folder(
    tmp_path: Path,
) -> None:
    """MkDocs builds pages, and so writes the search index, in the order of its files.
    The pages handed over from memory are put in the order its walk of ``docs_dir`` would
    list them, so the site is the same as one built from a docs folder."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    from generator.render.mkdocsplugins import walk_order

    paths = [
        "sod.md",
        "index.md",
        "people/index.md",
        "people/a-b.md",
        "controls/z.md",
        "controls/index.md",
        "controls/deep/x.md",
        "controls/Index.md",
        "break-glass.md",
        "coverage/csf.md",
        "a.md",
    ]
    docs = tmp_path / "docs"
    for rel in paths:
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text("# x\n", encoding="utf-8")
    config = load_config(config_file=None, docs_dir=str(docs), site_dir=str(tmp_path / "site"))
    walked = [f.src_uri for f in get_files(config)]
    assert sorted(paths, key=walk_order) == walked
