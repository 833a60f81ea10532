"""``controlbook build``: load, validate, evaluate, render the site (and narratives), swap it in.

Nothing under the output folder changes until every stage has succeeded, and the
output folder must be one a site may replace (see :mod:`generator.publish.destination`).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..catalog.cachedir import cache_root
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..evaluation.evalcache import EvaluationCache
from ..evaluation.evaluate import Evaluation
from ..evaluation.trendcache import TrendCache
from ..render.outdir import output_lock, scratch_dir, staging_dir, swap_in
from ..render.site import Progress, build_site_into
from ..resources import DEFAULT_MKDOCS_CONFIG, SOURCE_TREE
from ..signing.sign import load_signer
from ..views import CatalogViews
from .destination import check_site_destination
from .narratives import NarrativeBatch, render_narratives


def pdf_cache() -> Path:
    """Where signed narratives are cached by content hash (``$CONTROLBOOK_CACHE_DIR/pdf``,
    else ``.cache/controlbook/pdf`` in the project): a one-control change re-renders one PDF."""
    return cache_root() / "pdf"


def site_cache(out: Path) -> Path:
    """Where the HTML of the last site built into ``out`` is kept for the next build
    (``<cache>/site/<hash of the output path>``): a one-control change converts and
    renders only the pages it changes."""
    name = hashlib.sha256(str(out.resolve()).encode("utf-8", "surrogatepass")).hexdigest()
    return cache_root() / "site" / name[:32]


@dataclass(frozen=True)
class BuildResult:
    out: Path
    pages: int
    seconds: float
    evaluation: Evaluation
    narratives: NarrativeBatch | None


def build(
    catalog_path: Path,
    out: Path,
    *,
    as_of: date | None = None,
    config_file: Path = DEFAULT_MKDOCS_CONFIG,
    templates: Path | None = None,
    strict: bool = False,
    pdfs: bool = True,
    jobs: int | None = None,
    progress: Progress = lambda _: None,
) -> BuildResult:
    """Build the site for ``catalog_path`` into ``out``; the previous output survives any failure.

    Raises :class:`~generator.render.outdir.OutputFolderError` before any work when ``out``
    is the catalog, the repository, the home folder or a folder Controlbook did not build.
    """
    started = time.perf_counter()
    out = check_site_destination(out, Path(catalog_path))
    progress("loading and validating the catalog")
    catalog = load_catalog(catalog_path, strict=strict, cache=parse_cache())
    progress("evaluating rules")
    evaluations = EvaluationCache()
    evaluation = evaluations.evaluate(catalog, as_of)
    trend = TrendCache()
    if evaluations.catalog_hash is not None and evaluation.context is not None:
        trend.know(catalog, evaluation.context.extracts, evaluations.catalog_hash)
    views = CatalogViews(catalog, evaluation, trend_cache=trend)
    with output_lock(out):
        scratch = scratch_dir(out, "pdf")  # .<out>.pdf-PID: the next build removes it if killed
        try:
            batch = None
            if pdfs:
                progress(f"rendering and signing {len(catalog.controls)} narratives")
                signer = load_signer(catalog.settings, catalog.root, forbidden=(SOURCE_TREE, out))
                batch = render_narratives(
                    views,
                    scratch,
                    signer=signer,
                    cache_dir=pdf_cache(),
                    jobs=jobs,
                    templates=templates,
                    progress=progress,
                )
            staging = staging_dir(out)
            try:
                pages = build_site_into(
                    views,
                    staging,
                    config_file=config_file,
                    overrides=templates,
                    pdfs=batch.pdfs if batch else None,
                    cache_dir=site_cache(out),
                    progress=progress,
                )
                progress("replacing the previous site")
                swap_in(staging, out)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return BuildResult(out, pages, time.perf_counter() - started, evaluation, batch)
