"""Time every stage of Controlbook on a synthetic catalog, next to the bare tools' figures.

    python -m benchmarks.run --work /tmp/cb-bench                      # full size
    python -m benchmarks.run --work /tmp/cb-bench --controls 100 --people 2000 \\
        --systems 20 --accounts 4000 --entitlement-rows 40000          # small
    python -m benchmarks.run --work /tmp/cb-bench --catalog DIR --json figures.json

The catalog is generated into ``WORK/catalog`` (reused when it is there with the same
size, made by the same generator code), unless ``--catalog`` names one. Everything else
a run writes (sites, PDFs, the development signer, the PDF cache) stays under ``WORK``.
Memory is the peak resident set size of this process during each stage (see
:mod:`benchmarks.measure`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from .make_catalog import add_size_arguments, generate, spec_of
from .report import Report
from .synthetic.spec import Spec


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for everything written")
    parser.add_argument("--catalog", type=Path, help="an existing catalog instead of generating")
    add_size_arguments(parser)
    parser.add_argument("--pdf-sample", type=int, default=20, help="narratives rendered for PDFs")
    parser.add_argument("--jobs", type=int, default=None, help="PDF worker processes")
    parser.add_argument("--skip-site", action="store_true")
    parser.add_argument("--skip-linearity", action="store_true", help="no half-size site build")
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument(
        "--incremental-without-pdfs",
        action="store_true",
        help="full build and rebuild without narratives (quicker, not the real figure)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    return parser.parse_args(argv)


def _generator_digest() -> str:
    """The generator's own code: a catalog made by an older generator (e.g. review items
    as YAML) is made again, not reused."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([here / "make_catalog.py", *(here / "synthetic").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _catalog(spec: Spec, folder: Path) -> Path:
    """Generate ``spec`` into ``folder`` unless the same one, made by the same generator,
    is already there."""
    stamp = folder / ".spec.json"
    wanted = json.dumps({**asdict(spec), "generator": _generator_digest()}, sort_keys=True)
    if not (stamp.is_file() and stamp.read_text() == wanted):
        print(f"generating {folder} ...", flush=True)
        generate(spec, folder)
        stamp.write_text(wanted)
    return folder


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    # The development signer refuses to live inside a repository or a catalog, and the work
    # folder may be either: it gets a folder of its own, outside both.
    signer = Path(tempfile.gettempdir()) / f"controlbook-bench-signer-{os.getuid()}"
    os.environ["CONTROLBOOK_DEV_SIGNER_DIR"] = str(signer)
    os.environ["CONTROLBOOK_CACHE_DIR"] = str(work / "cache")
    from generator.catalog.gctune import tune_for_large_catalogs

    from . import stages  # imports the library after the environment is set

    tune_for_large_catalogs()  # the stages measured in this process run as the CLI runs them

    spec = spec_of(args)
    folder = args.catalog.resolve() if args.catalog else _catalog(spec, work / "catalog")
    report = Report([], [], {"catalog": str(folder), "cores": len(os.sched_getaffinity(0))})
    stages.check_from_nothing(folder, work, report)
    views = stages.evaluate_catalog(folder, work, report)
    if not args.skip_site:
        stages.site(views, work, report)
        if not args.skip_linearity and not args.catalog:
            half = replace(
                spec,
                controls=spec.controls // 2,
                people=spec.people // 2,
                systems=spec.systems // 2,
                accounts=spec.accounts // 2,
                entitlement_rows=spec.entitlement_rows // 2,
            )
            stages.site_linearity(_catalog(half, work / "catalog-half"), work, report)
    if not args.skip_pdf:
        stages.pdfs(views, work, report, sample=args.pdf_sample, jobs=args.jobs)
    stages.sod(views, report)
    del views
    if not args.skip_incremental:
        stages.incremental(folder, work, report, pdfs=not args.incremental_without_pdfs)
    print()
    print(report.table())
    if args.json:
        args.json.write_text(report.as_json() + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":  # the PDF process pool spawns workers that import this module
    sys.exit(main())
