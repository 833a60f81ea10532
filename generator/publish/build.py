"""``controlbook build``: load, validate, evaluate, render the site (and narratives), swap it in.

Nothing under the output folder changes until every stage has succeeded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..catalog.cachedir import cache_root
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..evaluation.evaluate import Evaluation, evaluate
from ..render.site import Progress, build_site_into, output_lock, staging_dir, swap_in
from ..resources import DEFAULT_MKDOCS_CONFIG, SOURCE_TREE
from ..signing.sign import load_signer
from ..views import CatalogViews
from .narratives import NarrativeBatch, render_narratives


def pdf_cache() -> Path:
    """Where signed narratives are cached by content hash (``$CONTROLBOOK_CACHE_DIR/pdf``,
    else ``.cache/controlbook/pdf`` in the project): a one-control change re-renders one PDF."""
    return cache_root() / "pdf"


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
    """Build the site for ``catalog_path`` into ``out``; the previous output survives any failure."""
    started = time.perf_counter()
    progress("loading and validating the catalog")
    catalog = load_catalog(catalog_path, strict=strict, cache=parse_cache())
    progress("evaluating rules")
    evaluation = evaluate(catalog, as_of)
    views = CatalogViews(catalog, evaluation)
    out = out.resolve()
    with (
        output_lock(out),
        tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.pdf-") as tmp,
    ):
        batch = None
        if pdfs:
            progress(f"rendering and signing {len(catalog.controls)} narratives")
            signer = load_signer(catalog.settings, catalog.root, forbidden=(SOURCE_TREE, out))
            batch = render_narratives(
                views,
                Path(tmp),
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
                progress=progress,
            )
            progress("replacing the previous site")
            swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BuildResult(out, pages, time.perf_counter() - started, evaluation, batch)
