"""The site in a real browser: headless Chromium (Debian's) driven by Playwright.

Screenshots are written to build/screenshots/ so a person can look at them.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from generator.publish.build import build
from tests.conftest import EXAMPLE, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # one line per file is noise
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site, built once for the module."""
    out = tmp_path_factory.mktemp("browser") / "site"
    build(EXAMPLE, out, pdfs=False)
    return out


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """``folder`` served on loopback by a throwaway HTTP server; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The example site at the root of a loopback web server."""
    with serving(site) as url:
        yield url


@pytest.fixture(scope="module")
def served_under_subpath(site: Path) -> Iterator[str]:
    """The example site under a sub-path (``/site/``), as on a shared web server."""
    with serving(site.parent) as url:
        yield f"{url}/{site.name}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (scripts/bootstrap.sh --test does)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def not_blank(path: Path) -> bool:
    """A screenshot with real content: many distinct colours, not one flat fill."""
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    return len(colours) > 50


def test_home_and_control_pages_render(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{served}/index.html")
    assert "Northwind Components, Inc." in page.title()
    home = SCREENSHOTS / "home.png"
    page.screenshot(path=str(home), full_page=True)
    assert not_blank(home)
    page.goto(f"{served}/controls/ITGC-LOG-01.html")
    assert page.locator("h1").inner_text().startswith("ITGC-LOG-01")
    assert page.locator("text=OWN-1").first.is_visible()
    control = SCREENSHOTS / "control-ITGC-LOG-01.png"
    page.screenshot(path=str(control), full_page=True)
    assert not_blank(control)
    print(f"screenshots: {home} {control}")


def test_search_finds_a_control_by_id(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{served}/index.html")
    page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("ITGC-UAR-ERP", delay=20)
    first = page.locator(".md-search-result__list li").first
    expect(first).to_contain_text(
        re.compile(r"^ITGC-UAR-ERP: Quarterly user access review"), timeout=15_000
    )
    page.screenshot(path=str(SCREENSHOTS / "search.png"))


@pytest.mark.parametrize(
    ("query", "snippet"),
    [
        ("BKOWALSKI", "BKOWALSKI Bartosz Kowalski employee"),  # an account
        ("Kowalski", "Bartosz Kowalski"),  # a person
        ("Z_P2P_VENDOR_MAINT", "Z_P2P_PAYMENT_RELEASE, Z_P2P_VENDOR_MAINT"),  # an entitlement
    ],
)
def test_search_finds_people_accounts_and_entitlements(  # type: ignore[no-untyped-def]
    served: str, browser, query: str, snippet: str
) -> None:
    page = browser.new_page()
    page.goto(f"{served}/index.html")
    page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially(query, delay=20)
    expect(page.locator(".md-search-result__meta")).to_contain_text("matching", timeout=15_000)
    # the results render as the list scrolls: scroll to its end until the ERP system's
    # accounts are there, with the cells of the account's row apart in the snippet
    state = page.locator(
        ".md-search-result__list a[href*='systems/erp.html'][href*='#accounts-in-the-state']"
    )
    for _ in range(20):
        if state.count():
            break
        page.locator(".md-search__scrollwrap").evaluate("e => e.scrollTop = e.scrollHeight")
        page.wait_for_timeout(250)
    expect(state.first).to_contain_text(snippet)
    page.close()


def test_findings_filters_work(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{served}/findings/index.html")
    rows = page.locator("#cb-findings tbody tr")
    assert rows.count() == 21
    page.select_option("select[name=severity]", "critical")
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 3
    assert page.locator(".cb-count").inner_text() == "3 shown"


REGISTERS = ["findings/index.html", "exceptions.html", "nhi.html", "break-glass.html", "sod.html"]

# Every table of the page: each header cell's right edge, the window's and the content's
# right edges, and whether the table (or the theme's scrolling wrapper) scrolls sideways.
MEASURE_TABLES = """() => {
  const content = document.querySelector('.md-content__inner').getBoundingClientRect();
  return [...document.querySelectorAll('.md-content table')].map(t => {
    const wrap = t.closest('.md-typeset__scrollwrap');
    return {
      headers: [...t.querySelectorAll('thead th')].map(th => [th.textContent.trim(), th.getBoundingClientRect().right]),
      window: window.innerWidth,
      content: content.right,
      scrolls: t.scrollWidth > t.clientWidth + 1 || (wrap !== null && wrap.scrollWidth > wrap.clientWidth + 1),
    };
  });
}"""


@pytest.mark.parametrize("rel", REGISTERS)
def test_register_tables_show_every_column_at_1400px(served: str, browser, rel: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{served}/{rel}")
    expect(page.locator(".md-sidebar--primary")).to_be_hidden()
    tables = page.evaluate(MEASURE_TABLES)
    assert tables, f"{rel} has no table"
    for table in tables:
        assert table["headers"]
        for name, right in table["headers"]:
            assert right <= min(table["window"], table["content"]) + 0.5, (rel, name, table)
        assert not table["scrolls"], (rel, table)
    # identifiers never wrap: each is laid out on one line
    wrapped = page.evaluate(
        """() => [...document.querySelectorAll('.md-content .cb-nowrap')]
             .filter(e => e.getClientRects().length > 1 || (e.tagName === 'TD' &&
                     [...e.querySelectorAll('a')].some(a => a.getClientRects().length > 1)))
             .map(e => e.textContent)"""
    )
    assert wrapped == []
    # a shortened path keeps its whole value in the title and in the text (copy)
    paths = page.locator(".cb-path")
    for i in range(paths.count()):
        path = paths.nth(i)
        assert path.get_attribute("title") == path.text_content().strip()
    page.close()


@pytest.mark.parametrize("rel", ["index.html", "systems/index.html", "coverage/csf.html"])
def test_tables_of_other_wide_pages_fit_at_1400px(served: str, browser, rel: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{served}/{rel}")
    for table in page.evaluate(MEASURE_TABLES):
        for name, right in table["headers"]:
            assert right <= min(table["window"], table["content"]) + 1, (rel, name, table)
        assert not table["scrolls"], (rel, table)
    page.close()


def test_findings_ids_stay_on_one_line_and_paths_are_shortened(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{served}/findings/index.html")
    rule = page.locator("#cb-findings tbody tr td:nth-child(2) a").first
    assert len(rule.evaluate("e => [...e.getClientRects()]")) == 1
    heights = page.evaluate(
        "() => [...document.querySelectorAll('#cb-findings tbody tr')].map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) < 80, heights  # no row grows tall from a path broken per character
    path = page.locator("#cb-findings .cb-path").first
    full = path.get_attribute("title")
    assert full
    assert full.startswith("controls/")
    assert path.evaluate("e => e.scrollWidth > e.clientWidth")  # shortened on screen
    copied = path.evaluate(
        """e => { const r = document.createRange(); r.selectNodeContents(e);
                  const s = getSelection(); s.removeAllRanges(); s.addRange(r);
                  return s.toString(); }"""
    )
    assert copied == full  # what a reader copies is the whole value
    page.close()


@pytest.mark.parametrize("where", ["file", "sub-path"])
def test_the_404_page_loads_its_assets_from_file_and_under_a_sub_path(  # type: ignore[no-untyped-def]
    site: Path, served_under_subpath: str, browser, where: str
) -> None:
    base = site.as_uri() if where == "file" else served_under_subpath
    page = browser.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.goto(f"{base}/404.html")
    page.wait_for_load_state("load")
    # the theme's and the project's stylesheets apply: the header is a sticky bar
    expect(page.locator(".md-header")).to_have_css("position", "sticky")
    stylesheets = page.evaluate("() => [...document.styleSheets].map(s => s.href)")
    assert f"{base}/assets/controlbook.css" in stylesheets
    logo = page.locator("a.md-header__button.md-logo").first.evaluate("a => a.href")
    assert logo == f"{base}/index.html"
    assert [u for u in failed if not u.endswith("favicon.ico")] == []
    page.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# One page of each type the site has.
PAGE_TYPES = {
    "dashboard": "index.html",
    "controls": "controls/index.html",
    "control": "controls/ITGC-UAR-ERP.html",
    "findings": "findings/index.html",
    "exceptions": "exceptions.html",
    "sod": "sod.html",
    "nhi": "nhi.html",
    "break-glass": "break-glass.html",
    "coverage": "coverage/csf.html",
    "coverage-nhi": "coverage/nhi.html",
    "person": "people/r.patel.html",
    "system": "systems/erp.html",
    "rule": "rules/OWN-1.html",
    "404": "404.html",
}

# axe-core violations of MkDocs Material itself (its header, navigation and search), by
# rule ID. They are accepted only outside the page content; any other rule fails, and so
# does any violation inside the content, which the project's templates and CSS make.
THEME_KNOWN = {
    "aria-dialog-name": "the search box (.md-search) has role=dialog and no accessible name",
    "color-contrast": "header tabs: inactive tab links are white at 70% opacity on the "
    "primary colour (4.28:1)",
    "landmark-unique": "the navigation nests <nav> landmarks that share a label on pages "
    "inside a section with groups (rule pages)",
}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.flatMap(v => v.nodes.map(n => {
    const element = document.querySelector(n.target[0]);
    return {rule: v.id, target: n.target.join(' '), html: n.html.slice(0, 200),
            summary: n.failureSummary || '',
            content: element !== null && element.closest('.md-content') !== null};
  }));
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_from_the_project(site: Path, browser, scheme: str) -> None:  # type: ignore[no-untyped-def]
    """Every page type, light and dark: nothing in the content (templates, CSS) violates an
    axe rule; outside it, only the theme's known violations."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    ours, unknown, seen = [], [], set()
    for kind, rel in PAGE_TYPES.items():
        page.goto((site / rel).as_uri())
        page.add_script_tag(path=str(AXE))
        for v in page.evaluate(RUN_AXE):
            if v["content"]:
                ours.append(f"{kind}: {v['rule']} at {v['target']}: {v['summary']} {v['html']}")
            elif v["rule"] not in THEME_KNOWN:
                unknown.append(f"{kind}: {v['rule']} at {v['target']}: {v['html']}")
            else:
                seen.add(v["rule"])
    page.close()
    assert ours == []
    assert unknown == [], "a new theme violation: fix it or list it in THEME_KNOWN"
    print(f"theme's known axe violations seen ({scheme}): {sorted(seen)}")


# Each text of the pictures, its fill and what it is drawn on: the cell's rectangle when
# it has a fill, else the page. Returns [text, contrast ratio].
PICTURE_CONTRAST = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const page = getComputedStyle(document.body).backgroundColor;
  return [...document.querySelectorAll('svg.cb-heatmap text, svg.cb-sodmap text')].map(t => {
    const cell = t.parentElement.tagName.toLowerCase() === 'svg' ? null : t.parentElement;
    const rect = cell && cell.querySelector(':scope > rect');
    const fill = rect ? getComputedStyle(rect).fill : 'none';
    const ground = fill && fill !== 'none' ? fill : page;
    return [t.textContent, ratio(getComputedStyle(t).fill, ground)];
  });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("rel", ["coverage/csf.html", "sod.html"])
def test_pictures_are_readable_in_light_and_dark_and_print(  # type: ignore[no-untyped-def]
    site: Path, browser, scheme: str, rel: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    page.goto((site / rel).as_uri())
    texts = page.evaluate(PICTURE_CONTRAST)
    assert len(texts) > 20
    faint = [(text, round(ratio, 2)) for text, ratio in texts if ratio < 4.5]
    assert faint == []
    page.emulate_media(media="print")
    assert page.locator("figure.cb-figure svg").first.is_visible()
    page.close()


SCREENSHOT_PAGES = {
    "dashboard": ("index.html", None),
    "control-ITGC-UAR-ERP": ("controls/ITGC-UAR-ERP.html", None),
    "findings": ("findings/index.html", None),
    "exceptions": ("exceptions.html", None),
    "sod": ("sod.html", None),
    "coverage-heatmap": ("coverage/csf.html", "figure.cb-figure"),
}


def test_screenshots_for_a_person_to_look_at(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    """Writes build/screenshots/<name>.png at 1400 px: whole pages, and the heat map alone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for name, (rel, element) in SCREENSHOT_PAGES.items():
        page.goto((site / rel).as_uri())
        target = SCREENSHOTS / f"{name}.png"
        if element:
            page.locator(element).first.screenshot(path=str(target))
        else:
            page.screenshot(path=str(target), full_page=True)
        assert not_blank(target), target
    page.close()
