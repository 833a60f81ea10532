"""The measured stages, each through the library's public functions, and their baselines."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from generator.catalog.loader import load_catalog
from generator.catalog.parsecache import ParseCache, parse_cache
from generator.evaluation.evaluate import INTERNAL_ERROR, evaluate
from generator.evaluation.rules import RULES, Context
from generator.publish.narratives import default_jobs, render_narratives
from generator.render.narrative import build_narratives, catalog_rel
from generator.render.narratives import pdf_environment, render_html
from generator.render.pdf import document_date, template_dirs
from generator.render.site import (
    build_site_into,
    epoch_of,
    navigation,
    render_pages,
    site_environment,
    write_docs,
)
from generator.resources import DEFAULT_MKDOCS_CONFIG as DEFAULT_CONFIG
from generator.signing.sign import load_signer
from generator.views import CatalogViews

from .baselines import mkdocs_alone, sod_sql, weasyprint_alone
from .measure import Stage, measure, measure_command
from .report import Figure, Report


def evaluate_catalog(folder: Path, work: Path, report: Report) -> CatalogViews:
    """Load + validate (with an empty parse cache, then a filled one), evaluate, views."""
    cache_dir = _fresh(work / "cache" / "yaml")
    _, cold = measure(
        "load + validate (cold: parse every file)",
        lambda: len(load_catalog(folder, cache=ParseCache(cache_dir)).controls),
    )
    report.add(cold)
    catalog, loading = measure(
        "load + validate (warm: unchanged files not parsed)",
        lambda: load_catalog(folder, cache=ParseCache(cache_dir)),
    )
    report.add(loading)
    _fresh(work / "cache" / "summaries")  # evaluate from nothing: every extract is scanned
    evaluation, evaluating = measure(f"evaluate ({len(RULES)} rules)", lambda: evaluate(catalog))
    report.add(evaluating)
    internal = [f for f in evaluation.findings if f.rule == INTERNAL_ERROR]
    ctx = evaluation.context
    assert ctx is not None
    state = {part.extract.file for parts in ctx.states.values() for part in parts}
    report.facts.update(
        {
            "controls": len(catalog.controls),
            "people": len(catalog.people),
            "systems": len(catalog.systems),
            "reviews": len(catalog.reviews),
            "review items": sum(len(r.items) for r in catalog.reviews.values()),
            "extract files": sum(len(e) for e in ctx.extracts.by_system.values()),
            "current entitlement rows": sum(ctx.extracts.check(f).rows or 0 for f in state),
            "findings (open / waived)": f"{len(evaluation.open)} / {len(evaluation.waived)}",
            "ERR-1 findings": len(internal),
        }
    )
    report.figures += [
        Figure(
            "load + validate + evaluate (warm)",
            None,
            None,
            loading.seconds + evaluating.seconds,
        ),
        Figure("load + validate + evaluate (cold)", None, None, cold.seconds + evaluating.seconds),
        Figure(
            "peak memory, load to evaluate (MB)",
            None,
            None,
            max(cold.peak_mb, loading.peak_mb, evaluating.peak_mb),
        ),
    ]
    views = CatalogViews(catalog, evaluation)
    _, stage = measure("view models", lambda: _touch(views))
    report.add(stage)
    return views


def check_from_nothing(folder: Path, work: Path, report: Report, rounds: int = 3) -> None:
    """``controlbook check`` as a first run or a fresh CI job runs it: a new process with
    an empty cache folder (no parse cache, no extract summaries), ``rounds`` times (its
    time varies by a tenth from one run to the next on a shared machine: most of it is
    file system work and two cores shared by three processes); the figure is the median.

    Each round has a cache folder of its own, and the folders are deleted after the last
    round: deleting one round's ten thousand cache files just before the next round made
    ext4 test each inode the next round created against those just deleted (18% of the
    processor samples of a cold load in ``ext4_create`` -> ``recently_deleted``, with
    ``perf record -a``), which a first run on a fresh runner never pays.

    The catalog's files are read once before the first round, as the checkout a CI job
    starts with leaves them in the page cache: this machine pages out file data nobody
    read for a minute (DAMON's ``pageout`` scheme on unmapped pages), and a round that read
    the 1 GB catalog from disk took 54 s instead of 29 s."""
    out = work / "check.json"
    command = [sys.executable, "-m", "generator", "check", str(folder), "--format", "json"]
    seconds: list[float] = []
    _, stage = measure(
        "read the catalog's files once (as a fresh checkout leaves them)", lambda: _read_all(folder)
    )
    report.add(stage)
    caches = [_fresh(work / f"cache-check-{n}") for n in range(1, rounds + 1)]
    for n, cache in enumerate(caches, start=1):
        env = {**os.environ, "CONTROLBOOK_CACHE_DIR": str(cache)}
        suffix = f", round {n} of {rounds}" if rounds > 1 else ""
        done, stage = measure(
            f"controlbook check, from nothing (new process, empty caches){suffix}",
            lambda env=env: subprocess.run([*command, "--output", str(out)], env=env, check=False),
        )
        if done.returncode not in (0, 1):  # 1: findings at or above the threshold
            raise RuntimeError(f"controlbook check failed with exit code {done.returncode}")
        findings = len(json.loads(out.read_text(encoding="utf-8"))["findings"])
        note = f"{findings:,} findings; peak of a child {stage.children_mb:,.0f} MB"
        report.add(replace_note(stage, note))
        seconds.append(stage.seconds)
    for cache in caches:
        shutil.rmtree(cache, ignore_errors=True)
    report.facts[f"controlbook check from nothing, {rounds} round(s) (min / median / max)"] = (
        _spread(seconds, "{:.1f} s")
    )
    report.figures.append(
        Figure("controlbook check from nothing (s)", None, None, statistics.median(seconds))
    )


def _touch(views: CatalogViews) -> None:
    """Compute every view the site shows."""
    for name in ("controls", "findings", "rules", "people", "systems", "sod", "exceptions"):
        getattr(views, name)
    for name in ("break_glass", "nhis", "worst_controls", "unowned", "ownership_health"):
        getattr(views, name)


def site(views: CatalogViews, work: Path, report: Report) -> None:
    """Jinja pages, our site build, and ``mkdocs build`` alone on the same pages.

    The pages start from an empty trend cache, as on a fresh runner: the dashboard's
    quarter ends are evaluated again (their cached counts are kept only while the
    evaluation's code is the same, so a cache left by an earlier run made this figure
    depend on what the previous run built)."""
    _fresh(work / "cache" / "trend")
    pages, stage = measure("site pages (Jinja)", lambda: render_pages(views, site_environment()))
    report.add(stage)
    people_pages = [
        p for p in pages if p.path.startswith("people/") and p.path != "people/index.md"
    ]
    report.facts["site pages"] = len(pages)
    report.facts["person pages (role holders only)"] = (
        f"{len(people_pages)} of {len(views.catalog.people)} directory entries"
    )
    ours = _site_build(views, work / "site-ours", "site build: pages + MkDocs (ours)", report)
    docs = _fresh(work / "site-baseline") / "docs"
    write_docs(pages, docs)
    epoch = epoch_of(views.evaluation.as_of)
    nav = navigation(pages)
    target = work / "site-baseline" / "site"
    _, bare = measure(
        "mkdocs build alone (subprocess)",
        lambda: mkdocs_alone(DEFAULT_CONFIG, docs, target, nav, epoch),
    )
    report.add(bare)
    report.facts["site seconds (full size)"] = round(ours, 2)
    report.figures.append(
        Figure("site: our build / mkdocs build", ours, bare.seconds, ours / bare.seconds)
    )


def _site_build(views: CatalogViews, target: Path, name: str, report: Report) -> float:
    _fresh(target)
    count, stage = measure(
        name, lambda: build_site_into(views, target / "site", config_file=DEFAULT_CONFIG)
    )
    report.add(replace_note(stage, f"{count} pages"))
    return stage.seconds


def site_linearity(folder: Path, work: Path, report: Report) -> None:
    """Our site build on a catalog of half the size."""
    catalog = load_catalog(folder)
    views = CatalogViews(catalog, evaluate(catalog))
    half = _site_build(views, work / "site-half", "site build, half size (ours)", report)
    full = float(report.facts["site seconds (full size)"])  # type: ignore[arg-type]
    report.figures.append(Figure("site: full size / half size", full, half, full / half))


def pdfs(
    views: CatalogViews,
    work: Path,
    report: Report,
    *,
    sample: int,
    jobs: int | None,
    rounds: int | None = None,
) -> None:
    """A sample of narratives: one process and the pool (``rounds`` times each, the pool's
    speed-up being noisy on a shared machine; default 3, or 1 for a smoke run of fewer
    than 10 narratives), WeasyPrint alone, and signing; the page counts of the narratives."""
    chosen = _pdf_sample(views, sample)
    count = len(chosen)
    rounds = rounds or (3 if count >= 10 else 1)
    signer = load_signer(views.catalog.settings, views.catalog.root)
    workers = jobs or default_jobs()

    def render(out: str, processes: int) -> dict[str, int]:
        batch = render_narratives(
            views, _fresh(work / out), signer=signer, controls=chosen, jobs=processes
        )
        return {r.control: r.pages for r in batch.results}

    ones: list[float] = []
    pools: list[float] = []
    pages: dict[str, int] = {}
    for n in range(1, rounds + 1):
        suffix = f", round {n} of {rounds}" if rounds > 1 else ""
        pages, one = measure(
            f"PDF: {count} narratives, 1 process{suffix}", lambda: render("pdf-1", 1)
        )
        report.add(replace_note(one, f"{sum(pages.values())} pages"))
        _, pool = measure(
            f"PDF: {count} narratives, {workers} processes{suffix}",
            lambda: render("pdf-pool", workers),
        )
        report.add(pool)
        ones.append(one.seconds)
        pools.append(pool.seconds)
    html = _html_files(views, chosen, _fresh(work / "pdf-html"))
    base_url = template_dirs()[0].as_uri() + "/"
    (outputs, seconds), started = measure(
        f"WeasyPrint alone: {count} HTML files, 1 fresh process",
        lambda: weasyprint_alone(html, base_url, _fresh(work / "pdf-weasyprint")),
    )
    alone = Stage(started.name, seconds, started.peak_mb, started.children_mb, "rendering loop")
    report.add(alone)
    documents = [p.read_bytes() for p in outputs]
    _, signing = measure(
        f"sign {count} PDFs",
        lambda: [signer.sign(d, reason="benchmark", location="benchmark") for d in documents],
    )
    report.add(signing)
    speedups = [one / pool for one, pool in zip(ones, pools, strict=True)]
    uar = {c for c in chosen if _user_access_review(views, c)}
    report.facts.update(
        {
            "narrative pages (min / median / max)": _spread(list(pages.values()), "{:.0f}"),
            "user access review narrative pages (min / median / max)": _spread(
                [pages[c] for c in uar], "{:.0f}"
            ),
            f"PDF pool speed-up over {rounds} round(s) (min / median / max)": _spread(speedups),
        }
    )
    one_s, pool_s = statistics.median(ones), statistics.median(pools)
    report.figures += [
        Figure(
            "PDF per document: ours (1 process) / WeasyPrint",
            one_s / count,
            alone.seconds / count,
            one_s / alone.seconds,
        ),
        Figure(
            "PDF: 1 process / process pool (speed-up)",
            one_s,
            pool_s,
            statistics.median(speedups),
        ),
        Figure(
            "user access review narrative pages (max)",
            None,
            None,
            max(pages[c] for c in uar),
        ),
    ]


def _user_access_review(views: CatalogViews, control: str) -> bool:
    """A control reviewing employees' accounts (the synthetic catalog's UAR controls)."""
    view = next(c for c in views.controls if c.id == control)
    return any("employee" in p.account_types for p in view.populations)


def _pdf_sample(views: CatalogViews, sample: int) -> list[str]:
    """``sample`` controls spread evenly over the catalog (so over every kind, which the
    generator deals out in turn), always with one user access review (the longest
    narratives, whose page count is a target)."""
    ids = [c.id for c in views.controls]
    count = min(sample, len(ids))
    chosen = [ids[i * len(ids) // count] for i in range(count)]
    if not any(_user_access_review(views, c) for c in chosen):
        first = next((c for c in ids if _user_access_review(views, c)), None)
        if first is not None:
            chosen[-1] = first
    return chosen


def _spread(values: list[float], form: str = "{:.2f}") -> str:
    if not values:
        return "none rendered"
    picked = (min(values), statistics.median(values), max(values))
    return " / ".join(form.format(v) for v in picked)


def _html_files(views: CatalogViews, controls: list[str], folder: Path) -> list[Path]:
    env = pdf_environment()
    signer = load_signer(views.catalog.settings, views.catalog.root).info
    created = document_date(views.as_of)
    out = []
    for narrative in build_narratives(views, controls):
        path = folder / f"{narrative.control.id}.html"
        path.write_text(render_html(narrative, signer, env, created), encoding="utf-8")
        out.append(path)
    return out


def sod(views: CatalogViews, report: Report) -> None:
    """Held SoD conflicts: ours (from scratch) against the query written in DuckDB SQL."""
    ctx = Context(views.catalog, views.as_of)
    conflicts, ours = measure("SoD conflicts (ours, fresh context)", lambda: ctx.access.conflicts)
    report.add(replace_note(ours, f"{len(conflicts)} conflicts"))
    files = {system: ctx.extracts.path(part.extract.file) for system, part in ctx.access.parts}
    rows, bare = measure(
        "SoD conflicts (DuckDB SQL alone)",
        lambda: sod_sql(views.catalog, {s: p for s, p in files.items() if p}),
    )
    report.add(replace_note(bare, f"{rows} conflicts"))
    report.figures.append(
        Figure(
            "SoD conflicts: ours / DuckDB SQL",
            ours.seconds,
            bare.seconds,
            ours.seconds / bare.seconds,
        )
    )


def incremental(folder: Path, work: Path, report: Report, *, pdfs: bool) -> None:
    """``controlbook build`` from a cold cache, then again after one control changed, each
    in a new process as a user runs it (the signed narratives and the site's pages of the
    first build are cached and reused by the second). Memory is the peak of the build's
    process tree: the build and its PDF workers."""
    for cache in ("pdf", "site", "trend", "evaluation", "access-facts"):
        shutil.rmtree(work / "cache" / cache, ignore_errors=True)
    out = work / "site-build"
    what = "with" if pdfs else "without"
    command = [sys.executable, "-m", "generator", "build", str(folder), "--out", str(out)]
    command += [] if pdfs else ["--no-pdf"]
    env = {**os.environ, "CONTROLBOOK_CACHE_DIR": str(work / "cache")}

    def run(name: str, log: str) -> tuple[str, Stage]:
        done, stage = measure_command(name, command, env=env, log=work / log)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: exit code {done.returncode}, see {work / log}")
        return done.stdout, stage

    printed, full = run(f"full build ({what} narratives, new process)", "build-full.log")
    pages = re.search(r"built (\d+) pages", printed)
    report.add(replace_note(full, f"{pages.group(1) if pages else '?'} pages; build and workers"))
    if pdfs:
        report.figures += [
            Figure("full build with narratives, cold caches (s)", None, None, full.seconds),
            Figure("peak memory, full build (MB)", None, None, full.peak_mb),
        ]
    catalog = load_catalog(folder, cache=parse_cache())
    control = next(iter(catalog.controls.values()))
    path = catalog.root / catalog_rel(catalog, control.source_file)
    del catalog
    original = path.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    lines = ["title: Revised control title\n" if x.startswith("title:") else x for x in lines]
    try:
        path.write_text("".join(lines), encoding="utf-8")
        printed, rebuild = run("rebuild after one control changed (new process)", "build-again.log")
    finally:
        path.write_bytes(original)
    rendered = re.search(r"(\d+) rendered and signed", printed)
    report.add(
        replace_note(rebuild, f"{rendered.group(1) if rendered else 0} narrative(s) rendered")
    )
    report.figures.append(
        Figure(
            "rebuild after one control / full build",
            rebuild.seconds,
            full.seconds,
            rebuild.seconds / full.seconds,
        )
    )


def replace_note(stage: Stage, note: str) -> Stage:
    return Stage(stage.name, stage.seconds, stage.peak_mb, stage.children_mb, note)


def _read_all(folder: Path) -> int:
    """Read every file under ``folder`` (into the page cache); the bytes read."""
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    total += len(block)
    return total


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
