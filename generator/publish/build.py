"""``controlbook build``: load, validate, evaluate, render the site (and narratives), swap it in.

Nothing under the output folder changes until every stage has succeeded, and the
output folder must be one a site may replace (see :mod:`generator.publish.destination`).
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..catalog.cachedir import cache_root
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..evaluation.evalcache import EvaluationCache
from ..evaluation.evaluate import Evaluation
from ..evaluation.trendcache import TrendCache
from ..evidence.filehash import HashAhead
from ..render.outdir import output_lock, scratch_dir, staging_dir, swap_in
from ..render.site import Progress, build_site_into
from ..resources import DEFAULT_MKDOCS_CONFIG, SOURCE_TREE
from ..signing.sign import load_signer
from ..views import CatalogViews
from ..views.accessfacts import AccessFactsCache
from .destination import check_site_destination
from .narrativekey import control_inputs
from .narratives import NarrativeBatch, NarrativePlan, plan_narratives


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


class _Narratives:
    """The narratives of one build, written while the site is built.

    With worker processes, the plan is written in a thread of this process (it feeds the
    workers, signs and writes; the workers lay out, even a single narrative's after a
    one-control change): the site's pages are rendered and converted meanwhile, on the
    core the workers leave, and :meth:`written` waits for the last PDF. With one process,
    they are written first. A failure on either side stops the other: leaving the block
    with an error stops the writing at its next PDF."""

    def __init__(self, plan: NarrativePlan | None, progress: Progress) -> None:
        self.batch: NarrativeBatch | None = None
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[NarrativeBatch] | None = None
        if plan is None:
            return
        if plan.workers > 1 and plan.todo >= 1:  # else in this process: nothing to share
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="narratives")
            self._future = self._pool.submit(plan.write, progress, self._stop, alongside=True)
        else:
            self.batch = plan.write(progress)

    def written(self) -> None:
        """Wait for every narrative; raises what writing them raised."""
        if self._future is not None:
            self.batch = self._future.result()

    def __enter__(self) -> _Narratives:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self._pool is None:
            return
        if error is not None:
            self._stop.set()
        self._pool.shutdown(wait=True)  # a failed write after a failed site is not reported


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
    with closing(HashAhead(catalog_path)) as ahead:  # the files' hashes, on a free core
        catalog = load_catalog(catalog_path, strict=strict, cache=parse_cache())
        progress("evaluating rules")
        evaluations = EvaluationCache()
        evaluation = evaluations.evaluate(catalog, as_of, ahead=ahead)
    trend = TrendCache()
    if evaluations.catalog_hash is not None and evaluation.context is not None:
        trend.know(catalog, evaluation.context.extracts, evaluations.catalog_hash)
    views = CatalogViews(catalog, evaluation, trend_cache=trend, access_facts=AccessFactsCache())
    with output_lock(out):
        scratch = scratch_dir(out, "pdf")  # .<out>.pdf-PID: the next build removes it if killed
        try:
            plan = None
            inputs = control_inputs(views)
            if pdfs:
                progress(f"rendering and signing {len(catalog.controls)} narratives")
                signer = load_signer(catalog.settings, catalog.root, forbidden=(SOURCE_TREE, out))
                plan = plan_narratives(
                    views, scratch, signer=signer, cache_dir=pdf_cache(), jobs=jobs,
                    templates=templates, known_inputs=inputs, progress=progress,
                )  # fmt: skip
            with _Narratives(plan, progress) as narratives:
                staging = staging_dir(out)
                try:
                    pages = build_site_into(
                        views,
                        staging,
                        config_file=config_file,
                        overrides=templates,
                        pdfs=plan.pdfs if plan else None,
                        pdfs_written=narratives.written,
                        pages_rendered=views.release,
                        cache_dir=site_cache(out),
                        control_inputs=inputs,
                        progress=progress,
                    )
                    progress("replacing the previous site")
                    swap_in(staging, out)
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return BuildResult(out, pages, time.perf_counter() - started, evaluation, narratives.batch)
