"""Commands that publish: build the site, render and verify the signed narratives, bundle, serve."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from ..errors import EXIT_FINDINGS, EXIT_OK
from .base import (
    AS_OF,
    CATALOG_ARG,
    JOBS,
    SITE_OUT_RULE,
    TEMPLATES_OPT,
    main,
    progress_console,
)


@main.command(name="build")
@CATALOG_ARG
@AS_OF
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help=f"The site folder, replaced whole: {SITE_OUT_RULE}.",
)
@TEMPLATES_OPT
@click.option("--no-pdf", is_flag=True, help="Build the site without the signed narratives.")
@JOBS
@click.option("--strict", is_flag=True, help="Treat catalog warnings as errors.")
def build_command(
    catalog: Path,
    as_of: date | None,
    out: Path,
    templates: Path | None,
    no_pdf: bool,
    jobs: int | None,
    strict: bool,
) -> None:
    """Build the control catalog site and the signed PDF narratives into --out."""
    from ..publish.build import build

    console = progress_console()
    with console.status("building") as status:

        def progress(stage: str) -> None:
            console.log(stage)
            status.update(stage)

        result = build(
            catalog,
            out,
            as_of=as_of,
            templates=templates,
            strict=strict,
            pdfs=not no_pdf,
            jobs=jobs,
            progress=progress,
        )
    evaluation = result.evaluation
    if result.narratives is not None:
        click.echo(result.narratives.summary)
    click.echo(
        f"built {result.pages} pages into {out} in {result.seconds:.1f} s "
        f"(as of {evaluation.as_of}: {len(evaluation.open)} open findings, "
        f"{len(evaluation.waived)} waived)"
    )


@main.command()
@click.argument("controls", nargs=-1, metavar="[CONTROL]...")
@click.option(
    "--catalog",
    type=click.Path(path_type=Path),
    default=Path("controls"),
    show_default=True,
    help="The catalog folder.",
)
@AS_OF
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site/narratives"),
    show_default=True,
    help="Folder for <ID>.pdf: new, empty, or one this command (or build) wrote PDFs into.",
)
@TEMPLATES_OPT
@JOBS
def pdf(
    controls: tuple[str, ...],
    catalog: Path,
    as_of: date | None,
    out: Path,
    templates: Path | None,
    jobs: int | None,
) -> None:
    """Render and sign the PDF narratives of CONTROL... (default: every control)."""
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evaluation.evaluate import evaluate
    from ..publish.build import pdf_cache
    from ..publish.destination import check_pdf_destination, claim_pdf_destination
    from ..publish.narratives import render_narratives
    from ..resources import SOURCE_TREE
    from ..signing.sign import load_signer
    from ..views import CatalogViews

    check_pdf_destination(out, catalog)
    loaded = load_catalog(catalog, cache=parse_cache())
    views = CatalogViews(loaded, evaluate(loaded, as_of))
    signer = load_signer(loaded.settings, loaded.root, forbidden=(SOURCE_TREE,))
    claim_pdf_destination(out)
    console = progress_console()
    with console.status("rendering") as status:
        batch = render_narratives(
            views,
            out,
            signer=signer,
            controls=list(controls) or None,
            cache_dir=pdf_cache(),
            jobs=jobs,
            templates=templates,
            progress=status.update,
        )
    for result in batch.results:
        click.echo(f"  {result.path}")
    click.echo(batch.summary)


@main.command()
@click.argument(
    "pdfs",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="[PDF]...",
)
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificate(s) (PEM or DER) the signer must chain to. Without it nothing "
    "verifies: anyone can sign with a certificate of any name.",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Re-hash the attached evidence manifest against this catalog and report changes.",
)
@click.option(
    "--allow-development",
    is_flag=True,
    help="Accept development signatures (not for production; for tests and previews).",
)
@click.option(
    "--bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify an audit bundle (controlbook bundle) offline instead of PDFs.",
)
@click.option(
    "--trust-bundled-ca",
    is_flag=True,
    help="With --bundle and no --trust: trust the bundle's own CA (proves integrity, not identity).",
)
def verify(
    pdfs: tuple[Path, ...],
    trust: Path | None,
    catalog: Path | None,
    allow_development: bool,
    bundle: Path | None,
    trust_bundled_ca: bool,
) -> None:
    """Verify signed narratives: integrity, signer, signing time, trust (exit 0 or 1).

    A narrative verifies only when its signer chains to a --trust CA; each verdict shows
    the signer's subject and certificate SHA-256 fingerprint. With --bundle, checks an
    audit bundle instead: one line per problem, then a summary (exit 0, 1, or 2 for a
    file that is not a usable bundle).
    """
    from ..signing.verify import verify_pdfs

    if bundle is not None:
        if pdfs or catalog:
            raise click.UsageError("--bundle takes no PDF or --catalog: the bundle holds both")
        from ..publish.bundleverify import verify_bundle

        verdict = verify_bundle(
            bundle, trust=trust, trust_bundled=trust_bundled_ca, allow_development=allow_development
        )
        click.echo("\n".join(verdict.lines()))
        sys.exit(EXIT_OK if verdict.ok else EXIT_FINDINGS)
    if not pdfs:
        raise click.UsageError("give the PDF narratives to verify, or --bundle FILE.zip")

    results = verify_pdfs(
        list(pdfs), trust=trust, catalog=catalog, allow_development=allow_development
    )
    for result in results:
        click.echo("\n".join(result.lines()))
    failed = sum(1 for r in results if not r.ok)
    click.echo(f"{len(results) - failed} of {len(results)} narrative(s) verified")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@main.command()
@CATALOG_ARG
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file (.zip); replaced only by a complete new bundle.",
)
@AS_OF
@click.option(
    "--site",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Also keep the built site here (default: a temporary folder): {SITE_OUT_RULE}.",
)
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The CA to ship as trust/ca.pem (default: the root of the signing key's chain).",
)
@TEMPLATES_OPT
@JOBS
@click.option("--strict", is_flag=True, help="Treat catalog warnings as errors.")
def bundle(
    catalog: Path,
    out: Path,
    as_of: date | None,
    site: Path | None,
    trust: Path | None,
    templates: Path | None,
    jobs: int | None,
    strict: bool,
) -> None:
    """Write an offline audit bundle: site, signed narratives, catalog, findings, samples,
    trust anchor and a signed manifest, in one byte-reproducible zip."""
    from ..publish.bundle import Reports, make_bundle
    from ..report import csvout, jsonout, samples, sarif

    reports = Reports(
        findings=lambda evaluation, threshold: {
            "findings.json": jsonout.render(evaluation, threshold),
            "findings.sarif": sarif.render(evaluation.findings),
            "findings.csv": csvout.render(evaluation),
        },
        sample_csv=samples.render_csv,
    )
    console = progress_console()
    with console.status("bundling") as status:

        def progress(stage: str) -> None:
            console.log(stage)
            status.update(stage)

        result = make_bundle(
            catalog, out, reports=reports, as_of=as_of, site=site, trust=trust,
            templates=templates, strict=strict, jobs=jobs, progress=progress,
        )  # fmt: skip
    if result.development:
        click.echo("WARNING: development signature, not for production")
    click.echo(
        f"wrote {result.out}: {result.files} files, {result.narratives} narratives, "
        f"{result.samples} samples, {result.size:,} bytes; {result.catalog_source.note}"
    )


@main.command()
@CATALOG_ARG
@AS_OF
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".cache/serve"),
    show_default=True,
    help=f"Where the served site is built, replaced whole: {SITE_OUT_RULE}.",
)
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path))
def serve(
    catalog: Path, as_of: date | None, host: str, port: int, out: Path, templates: Path | None
) -> None:
    """Build and serve the site with live reload (loopback unless --host says otherwise)."""
    import logging

    from ..publish.serve import make_server

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = make_server(
        catalog, out, host=host, port=port, as_of=as_of, templates=templates,
        report=lambda line: click.echo(line, err=True),
    )  # fmt: skip
    try:
        server.serve()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.shutdown()
