"""The control catalog site: view models -> Markdown pages (Jinja) -> MkDocs Material -> ``site/``.

The output replaces the previous site only once the whole build has succeeded:
pages and MkDocs output go to a staging folder beside the target, which is then
swapped in. A lock file keeps two builds of the same target from interleaving.
The output-folder mechanics (lock, staging, marker, atomic swap, leftovers) live in
:mod:`generator.render.outdir` and are re-exported here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from ..errors import ControlbookError
from ..model import Severity
from ..model.slugs import slug as slug
from ..references import load_csf, load_owasp_nhi
from ..resources import TEMPLATES
from ..views import CatalogViews
from ..views.types import ALL_DECISIONS_MAX, LISTED, html_id
from .env import make_environment, template_problem, visible
from .mkdocsplugins import (
    blank_lines_plugin,
    files_copied_later_plugin,
    relative_error_pages,
    rendered_pages_plugin,
    search_separators_plugin,
)
from .mkdocsplugins import search_separators as search_separators
from .outdir import output_lock as output_lock
from .outdir import staging_dir as staging_dir
from .outdir import swap_in as swap_in
from .pagekey import Fingerprints, environment_digest, page_key
from .sitecache import PLUGIN_NAME, PageCache, build_inputs, incremental_pages_plugin
from .svg import bar_chart, heat_cell, heat_map, sod_matrix, stacked_bars

Progress = Callable[[str], None]
NavItem = str | dict[str, Any]


class BuildError(ControlbookError):
    """The site could not be built (MkDocs failed, the output is locked...)."""


@dataclass(frozen=True)
class Page:
    """One generated Markdown page: where it goes and what it says."""

    path: str
    title: str
    text: str


def site_environment(overrides: Path | None = None) -> Environment:
    env = make_environment("site", overrides)
    env.filters["slug"] = slug
    env.filters["heat"] = heat_cell
    env.filters["html_id"] = html_id
    return env


def render_pages(
    views: CatalogViews,
    env: Environment,
    *,
    pdfs: dict[str, str] | None = None,
    cache: PageCache | None = None,
    control_inputs: dict[str, str] | None = None,
) -> list[Page]:
    """Every page of the site, rendered from the view models (deterministic order).

    With a ``cache``, a page whose template, environment and values are those of a page
    kept in it is not rendered: its Markdown is taken from the cache (see :mod:`.pagekey`).
    ``control_inputs`` (control ID -> :func:`~generator.publish.narrativekey.control_inputs`)
    stand for the controls' views in the page keys (:meth:`.Fingerprints.vouch`)."""
    pdfs = pdfs or {}
    evaluation = views.evaluation
    settings = views.catalog.settings
    env.globals["rule_ids"] = {r.id for r in views.rules}
    env.globals["person_pages"] = {p.person.id for p in views.people}
    env.globals["listed_max"] = LISTED
    env.globals["all_decisions_max"] = ALL_DECISIONS_MAX
    common = {
        "as_of": evaluation.as_of,
        "org": settings.organisation,
        "open_count": len(evaluation.open),
        "waived_count": len(evaluation.waived),
    }
    fingerprints = Fingerprints()
    # The template folders, in search order, as make_environment's loader holds them, and
    # every global but Jinja's own; an environment with another loader, or a global pickle
    # cannot write, renders every page.
    folders = getattr(env.loader, "folders", None)
    environment = None
    if cache is not None and isinstance(folders, list):
        environment = environment_digest(
            folders,
            isinstance(env, SandboxedEnvironment),
            {k: v for k, v in env.globals.items() if DEFAULT_NAMESPACE.get(k) is not v},
        )
    if environment is None:
        cache = None
    # Fast keys first: each control's view known by its inputs. On a miss, the page's key
    # from its values (a page whose inputs changed may still show the same thing).
    tiers = [fingerprints]
    if cache is not None and control_inputs:
        vouched = [(v, control_inputs[v.id]) for v in views.controls if v.id in control_inputs]
        tiers.insert(0, fingerprints.vouching(vouched))

    def kept_text(
        store: PageCache, head: tuple[str, str, str, bool], values: dict[str, Any]
    ) -> tuple[str | None, list[str]]:
        """The page's Markdown kept in ``store``, else the keys to keep it under."""
        keys: list[str] = []
        for tier in tiers:
            key = page_key(tier, environment or "", head, values)
            if key is None or key in keys:
                continue
            kept = store.get_text(key)
            if kept is not None:
                store.also_under(keys, kept, key)  # found by its values: next time by its inputs
                return kept, []
            keys.append(key)
        return None, keys

    def page(path: str, title: str, template: str, *, wide: bool = False, **context: Any) -> Page:
        # An explicit, escaped title: the theme prints page titles into <title> unescaped,
        # and would otherwise take them from the page's first heading (user text).
        # Bidi and zero-width characters are written out, as everywhere in the site.
        # A wide page (a register) hides both sidebars; the stylesheet then lets its
        # content use the whole window (see controlbook.css, "Register pages").
        title = visible(title)
        keys: list[str] = []
        if cache is not None:
            kept, keys = kept_text(cache, (path, title, template, wide), {**common, **context})
            if kept is not None:
                return Page(path, title, kept)
        hide = "hide:\n  - navigation\n  - toc\n" if wide else ""
        front = f"---\ntitle: {json.dumps(str(escape(title)))}\n{hide}---\n\n"
        try:
            text = front + env.get_template(template).render(**common, **context)
        except TemplateError as exc:
            raise BuildError(f"page {path}: {template_problem(exc)}") from None
        if cache is not None:
            cache.put_text(keys, text)
        return Page(path, title, text)

    owned, _unowned_count, flagged = views.ownership_health
    pages = [
        page(
            "index.md",
            "Dashboard",
            "index.md.j2",
            period=str(evaluation.period),
            control_count=len(views.controls),
            failing_count=len(evaluation.failing(settings.fail_on)),
            threshold=str(settings.fail_on),
            severity_chart=bar_chart(views.severity_bars, "Open findings by severity"),
            family_chart=bar_chart(views.family_bars, "Open findings by rule family"),
            trend=views.findings_trend,
            trend_chart=stacked_bars(
                [
                    (p.label, str(p.day), [n for _, n in p.by_severity])
                    for p in views.findings_trend
                ],
                [(str(s), str(s)) for s in Severity],
                "Open findings by severity at each quarter end",
            ),
            review_quarters=views.review_quarters,
            review_chart=stacked_bars(
                [
                    (q.label, f"to {q.end}", [q.on_time, q.late, q.missing])
                    for q in views.review_quarters
                ],
                [("on time", "clean"), ("late", "medium"), ("missing", "critical")],
                "Reviews due by the as-of date, by quarter of their due date",
            ),
            worst=views.worst_controls,
            owned=owned,
            unowned=views.unowned,
            ownership_flagged=flagged,
            not_assessed=evaluation.not_assessed,
        ),
        page("controls/index.md", "Controls", "controls.md.j2", controls=views.control_rows),
    ]
    for control in views.controls:
        pdf = pdfs.get(control.id)
        pages.append(
            page(f"controls/{slug(control.id)}.md", control.id, "control.md.j2", c=control, pdf=pdf)
        )
    findings = views.findings
    pages.append(
        page(
            "findings/index.md",
            "Findings",
            "findings.md.j2",
            wide=True,
            findings=findings,
            severities=[str(s) for s in Severity],
            severity_rank={str(s): s.rank for s in Severity},
            finding_rules=sorted({f.rule for f in findings}),
            finding_controls=sorted({f.control for f in findings if f.control}),
            finding_owners=sorted({f.owner for f in findings if f.owner}),
        )
    )
    pages.append(page("rules/index.md", "Rules", "rules.md.j2", rules=views.rules))
    for rule in views.rules:
        related = tuple(f for f in findings if f.rule == rule.id)
        pages.append(
            page(f"rules/{slug(rule.id)}.md", rule.id, "rule.md.j2", r=rule, findings=related)
        )
    pages.append(
        page(
            "people/index.md",
            "Accountability",
            "people.md.j2",
            people=views.people,
            unowned=views.unowned,
        )
    )
    for holder in views.people:
        pages.append(
            page(
                f"people/{slug(holder.person.id)}.md", holder.person.name, "person.md.j2", p=holder
            )
        )
    pages.append(page("systems/index.md", "Systems", "systems.md.j2", systems=views.systems))
    for system in views.systems:
        pages.append(page(f"systems/{slug(system.id)}.md", system.name, "system.md.j2", s=system))
    pages += [
        page(
            "sod.md",
            "SoD conflicts",
            "sod.md.j2",
            wide=True,
            sod=views.sod,
            sod_picture=sod_matrix(views.sod, "People by segregation-of-duties duty", "cb-sod"),
        ),
        page(
            "exceptions.md",
            "Exceptions register",
            "exceptions.md.j2",
            wide=True,
            exceptions=views.exceptions,
        ),
        page(
            "break-glass.md",
            "Break-glass log",
            "break-glass.md.j2",
            wide=True,
            events=views.break_glass,
            review_days=settings.break_glass_review_days,
        ),
        page("nhi.md", "Non-human identities", "nhi.md.j2", wide=True, nhis=views.nhis),
        page(
            "coverage/csf.md",
            "NIST CSF 2.0",
            "coverage-csf.md.j2",
            wide=True,  # the heat map reads at its natural size
            rows=views.coverage.csf,
            heat_rows=views.csf_heatmap,
            heatmap=heat_map(views.csf_heatmap, "NIST CSF 2.0 coverage heat map", "cb-csf"),
            share=views.coverage.csf_subcategories,
            source_url=load_csf().source_url,
        ),
        page(
            "coverage/nhi.md",
            "OWASP NHI Top 10",
            "coverage-nhi.md.j2",
            wide=True,  # the heat map reads at its natural size
            rows=views.coverage.nhi,
            heat_rows=views.nhi_heatmap,
            heatmap=heat_map(views.nhi_heatmap, "OWASP NHI Top 10 coverage heat map", "cb-nhi"),
            share=views.coverage.nhi_risks,
            source_url=load_owasp_nhi().source_url,
        ),
    ]
    _refuse_same_paths(pages)
    return pages


def _refuse_same_paths(pages: list[Page]) -> None:
    """Never write one page over another. Validation refuses IDs with the same page
    name, with their positions; this guards every other way in (a catalog built in code)."""
    seen: dict[str, Page] = {}
    for item in pages:
        key = item.path.casefold()
        if key in seen:
            raise BuildError(
                f"'{seen[key].title}' and '{item.title}' would both be written to {item.path}"
            )
        seen[key] = item


NAV_GROUP = 100
"""Most pages listed side by side in the navigation. MkDocs Material writes the visible
navigation into every page, so a section of n pages costs n x n; a longer section is
split into groups of this size, and only the current page's group is expanded
(``navigation.prune``), which keeps the build linear in the number of pages."""


def navigation(pages: list[Page]) -> list[NavItem]:
    """The site navigation: sections mirror the page families.

    Titles are HTML-escaped here: the theme prints navigation titles as they are.
    """
    pages = [Page(p.path, str(escape(p.title)), p.text) for p in pages]
    by_path = {p.path: p for p in pages}

    def section(title: str, prefix: str) -> dict[str, Any]:
        children = [
            p for p in pages if p.path.startswith(prefix) and not p.path.endswith("index.md")
        ]
        entries: list[NavItem] = [{c.title: c.path} for c in children]
        if len(children) > NAV_GROUP:
            groups = [children[i : i + NAV_GROUP] for i in range(0, len(children), NAV_GROUP)]
            entries = [
                {
                    f"All {len(children)}": [
                        {f"{g[0].title} to {g[-1].title}": [{c.title: c.path} for c in g]}
                        for g in groups
                    ]
                }
            ]
        return {title: [f"{prefix}index.md", *entries]}

    return [
        {"Dashboard": "index.md"},
        section("Controls", "controls/"),
        {"Findings": ["findings/index.md", section("Rules", "rules/")]},
        section("Accountability", "people/"),
        section("Systems", "systems/"),
        {
            "Registers": [
                {by_path[p].title: p}
                for p in ("sod.md", "exceptions.md", "break-glass.md", "nhi.md")
            ]
        },
        {
            "Framework coverage": [
                {by_path[p].title: p} for p in ("coverage/csf.md", "coverage/nhi.md")
            ]
        },
    ]


def write_docs(pages: list[Page], docs: Path) -> None:
    """Write the pages and the site assets into ``docs`` (a docs folder for MkDocs alone;
    :func:`build_site_into` gives MkDocs the pages from memory)."""
    for item in pages:
        target = docs / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8")
    write_assets(docs)


def write_assets(docs: Path) -> None:
    """Copy the site's assets (stylesheet, scripts) into ``docs``, file by file: an error
    (a full disk) is raised as the system's own, which the command line words."""
    source = TEMPLATES / "site" / "assets"
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix != ".md":
            target = docs / "assets" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _front_matter(text: str) -> str:
    """The YAML front matter of a generated page (it always starts the page)."""
    if not text.startswith("---\n"):
        return ""
    end = text.find("\n---\n", 3)
    return text[: end + 5] if end >= 0 else ""


def epoch_of(day: Any) -> int:
    """SOURCE_DATE_EPOCH for an as-of date: midnight UTC, so output does not depend on the clock."""
    return int(datetime.combine(day, time.min, tzinfo=UTC).timestamp())


class _WarningCollector(logging.Handler):
    """Keeps MkDocs' warnings so that a failed strict build can say what they were."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().replace("\n", " "))


def run_mkdocs(
    config_file: Path,
    docs: Path,
    site_dir: Path,
    *,
    site_name: str,
    nav: list[NavItem],
    epoch: int,
    cache: PageCache | None = None,
    front_matter: list[tuple[str, str]] | None = None,
    copied_later: dict[str, Path] | None = None,
    pages: dict[str, str] | None = None,
) -> None:
    """Build with MkDocs' Python API; warnings fail the build (strict).

    ``pages`` (path -> Markdown) are pages of the site given from memory, beside those in
    ``docs``; the dict is emptied as they are handed to MkDocs (held once).

    With a ``cache``, unchanged pages are served from it (see :mod:`.sitecache`);
    ``front_matter`` is every page's front matter by path, which it depends on.
    ``copied_later`` are files of the site (site path -> file) that MkDocs does not copy:
    links to them are checked, and the caller copies them in after the build."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    epoch_before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    warnings = _WarningCollector()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    try:
        config = load_config(
            config_file=str(config_file),
            docs_dir=str(docs),
            site_dir=str(site_dir),
            site_name=site_name,
            nav=nav,
            strict=True,
        )
        if not config.site_url:
            config.plugins["controlbook-relative-error-pages"] = relative_error_pages()
        config.plugins["controlbook-search-separators"] = search_separators_plugin()
        config.plugins["controlbook-blank-lines"] = blank_lines_plugin()
        if pages:
            config.plugins["controlbook-rendered-pages"] = rendered_pages_plugin(pages)
        if copied_later:  # before the page cache, whose key holds every file's path
            config.plugins["controlbook-files-copied-later"] = files_copied_later_plugin(
                copied_later
            )
        if cache is not None:
            custom = config.theme.custom_dir
            inputs = build_inputs(
                config_file=config_file,
                site_name=site_name,
                epoch=epoch,
                nav=nav,
                front_matter=front_matter or [],
                custom_dir=Path(custom) if custom else None,
            )
            config.plugins[PLUGIN_NAME] = incremental_pages_plugin(cache, inputs)
        build(config)
        if cache is not None:
            cache.commit()
    except (Abort, ConfigurationError) as exc:
        details = "".join(f"\n  - {m}" for m in warnings.messages)
        raise BuildError(f"MkDocs failed: {exc}{details}") from None
    finally:
        if cache is not None:
            cache.discard()
        logger.removeHandler(warnings)
        if epoch_before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = epoch_before


def build_site_into(
    views: CatalogViews,
    target: Path,
    *,
    config_file: Path,
    overrides: Path | None = None,
    pdfs: dict[str, Path] | None = None,
    pdfs_written: Callable[[], object] | None = None,
    pages_rendered: Callable[[], object] | None = None,
    cache_dir: Path | None = None,
    control_inputs: dict[str, str] | None = None,
    progress: Progress = lambda _: None,
) -> int:
    """Render pages and run MkDocs into ``target`` (a staging folder); returns the page count.

    ``pdfs`` are the narratives by control ID. They need not exist yet when
    ``pdfs_written`` is given: the pages link to them and MkDocs checks those links, and
    the files are put into ``target`` once MkDocs is done and ``pdfs_written()`` has
    returned (it waits for them, and raises when they could not be written), so the site is
    built while the narratives are laid out; they are linked into ``target`` (copied from
    another file system), so the caller must not change them afterwards.

    ``pages_rendered()`` is called once every page's Markdown is rendered, before MkDocs
    runs: what only the pages needed (the access tables of the evaluation) can be freed
    there. With ``cache_dir``, the HTML of pages whose inputs did not change since the last
    build with that cache folder is reused (see :mod:`.sitecache`), and ``control_inputs``
    are passed to :func:`render_pages`."""
    env = site_environment(overrides)
    progress("rendering pages")
    links = {cid: f"../narratives/{slug(cid)}.pdf" for cid in (pdfs or {})}
    later = {f"narratives/{slug(cid)}.pdf": path for cid, path in (pdfs or {}).items()}
    cache = PageCache(cache_dir) if cache_dir else None
    # Beside the target, named after it: for a staging folder ``.site.staging-PID`` that is
    # ``.site.staging-PID.docs``, which the next build cleans up if this process is killed.
    docs = target.parent / f"{target.name}.docs"
    try:
        pages = render_pages(views, env, pdfs=links, cache=cache, control_inputs=control_inputs)
        if docs.exists():
            shutil.rmtree(docs)
        write_assets(docs)
        count, nav = len(pages), navigation(pages)
        front_matter = [(p.path, _front_matter(p.text)) for p in pages]
        texts = {p.path: p.text for p in pages}
        del pages  # MkDocs takes the texts out of ``texts``: each is held once while it runs
        if pages_rendered is not None:
            pages_rendered()
        progress(f"running MkDocs on {count} pages")
        run_mkdocs(
            config_file,
            docs,
            target,
            site_name=str(
                escape(visible(f"{views.catalog.settings.organisation} control catalog"))
            ),
            nav=nav,
            epoch=epoch_of(views.evaluation.as_of),
            cache=cache,
            front_matter=front_matter,
            copied_later=later,
            pages=texts,
        )
        if pdfs_written is not None:
            progress("waiting for the narratives")
            pdfs_written()
        for rel, source in later.items():
            destination = target / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:  # the narratives are the build's own files, removed once it is done
                os.link(source, destination, follow_symlinks=False)
            except OSError:  # another file system
                shutil.copy2(source, destination)
    finally:
        if cache is not None:
            cache.discard()  # entries of a build that failed are never kept
        shutil.rmtree(docs, ignore_errors=True)
    return count
