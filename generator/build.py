"""``controlbook build``: load, validate, evaluate, render the site (and narratives), swap it in.

Nothing under the output folder changes until every stage has succeeded.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .evaluate import Evaluation, evaluate
from .loader import load_catalog
from .render.site import Progress, build_site_into, output_lock, staging_dir, swap_in
from .views import CatalogViews

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "mkdocs.yml"


@dataclass(frozen=True)
class BuildResult:
    out: Path
    pages: int
    seconds: float
    evaluation: Evaluation


def build(
    catalog_path: Path,
    out: Path,
    *,
    as_of: date | None = None,
    config_file: Path = DEFAULT_CONFIG,
    templates: Path | None = None,
    strict: bool = False,
    progress: Progress = lambda _: None,
) -> BuildResult:
    """Build the site for ``catalog_path`` into ``out``; the previous output survives any failure."""
    started = time.perf_counter()
    progress("loading and validating the catalog")
    catalog = load_catalog(catalog_path, strict=strict)
    progress("evaluating rules")
    evaluation = evaluate(catalog, as_of)
    views = CatalogViews(catalog, evaluation)
    out = out.resolve()
    with output_lock(out):
        staging = staging_dir(out)
        try:
            pages = build_site_into(
                views, staging, config_file=config_file, overrides=templates, progress=progress
            )
            progress("replacing the previous site")
            swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BuildResult(out, pages, time.perf_counter() - started, evaluation)
