"""Commands on the catalog itself: validate, check, coverage, schema, init, diff."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, CatalogInvalid
from .base import (
    AS_OF,
    CATALOG_ARG,
    OUTPUT,
    SEVERITIES,
    main,
    parse_weakenings,
    print_diagnostics,
    summary_of,
)


@main.command()
@CATALOG_ARG
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. unknown keys) as errors.")
def validate(catalog: Path, strict: bool) -> None:
    """Load and validate a catalog; report every error and warning (exit 0 or 2)."""
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evidence.extracts import extract_diagnostics

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    problems = extract_diagnostics(loaded)  # what check and build would stop on
    if problems:
        raise CatalogInvalid(sorted([*loaded.warnings, *problems], key=lambda d: d.sort_key()))
    print_diagnostics(loaded.warnings)
    counts = (
        f"{len(loaded.controls)} controls, {len(loaded.reviews)} reviews, "
        f"{len(loaded.people)} people, {len(loaded.systems)} systems"
    )
    click.echo(f"{loaded.display_root}: valid ({counts}; {summary_of(loaded.warnings)})")


@main.command()
@CATALOG_ARG
@AS_OF
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "csv"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-on",
    type=SEVERITIES,
    help="Exit 1 on open findings at or above this (default: settings.fail_on).",
)
@OUTPUT
@click.option("--strict", is_flag=True, help="Treat catalog warnings as errors.")
def check(
    catalog: Path,
    as_of: date | None,
    fmt: str,
    fail_on: str | None,
    output: Path | None,
    strict: bool,
) -> None:
    """Evaluate the catalog for ownership and evidence gaps (exit 0, 1 or 2)."""
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evaluation.evaluate import evaluate
    from ..model import Severity
    from ..report import csvout, jsonout, sarif, text

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    print_diagnostics(loaded.warnings)
    threshold = Severity(fail_on.lower()) if fail_on else loaded.settings.fail_on
    evaluation = evaluate(loaded, as_of)
    if fmt == "text":
        if output:
            with output.open("w", encoding="utf-8") as stream:
                text.render(evaluation, threshold, stream, colour=False)
        else:
            text.render(evaluation, threshold, sys.stdout)
    else:
        renderers = {
            "json": lambda: jsonout.render(evaluation, threshold),
            "sarif": lambda: sarif.render(evaluation.findings),
            "csv": lambda: csvout.render(evaluation),
        }
        body = renderers[fmt]()
        if output:
            output.write_text(body, encoding="utf-8")
        else:
            click.echo(body, nl=False)
    sys.exit(EXIT_FINDINGS if evaluation.failing(threshold) else EXIT_OK)


@main.command()
@CATALOG_ARG
@AS_OF
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
def coverage(catalog: Path, as_of: date | None, fmt: str) -> None:
    """Show NIST CSF 2.0 and OWASP NHI coverage by the catalog's controls."""
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evaluation.coverage import compute
    from ..evaluation.evaluate import evaluate
    from ..report import coverage as render

    loaded = load_catalog(catalog, cache=parse_cache())
    result = compute(loaded, evaluate(loaded, as_of))
    renderer = {"text": render.render_text, "json": render.render_json, "csv": render.render_csv}
    click.echo(renderer[fmt](result), nl=False)


@main.command()
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of catalog files (for editors and CI)."""
    from ..catalog.schema import schema_json

    text = schema_json()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(directory: Path, force: bool) -> None:
    """Create a small, valid, commented catalog in DIRECTORY to start from."""
    from ..catalog.scaffold import scaffold

    written = scaffold(directory, force=force)
    for path in written:
        click.echo(f"  created {path}")
    click.echo(f"Next: controlbook validate {directory}")


@main.command()
@click.argument("base", required=False)
@click.argument("head", required=False)
@CATALOG_ARG
@AS_OF
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "sarif"]),
    default="markdown",
    show_default=True,
    help="markdown: a pull-request comment; sarif: only the findings the change introduces.",
)
@click.option(
    "--fail-on",
    type=SEVERITIES,
    help="Exit 1 on introduced findings at or above this (default: BASE's settings.fail_on).",
)
@click.option(
    "--block-on",
    callback=parse_weakenings,
    metavar="KIND,...",
    help="Exit 1 on these weakenings, comma-separated ('' for none). Default: BASE's "
    "settings.block_on, plus policy-relaxed.",
)
@click.option(
    "--allow-new-catalog",
    is_flag=True,
    help="Accept a catalog folder that does not exist at BASE (a first review): HEAD is "
    "then judged on its own.",
)
@OUTPUT
def diff(
    base: str | None,
    head: str | None,
    catalog: Path,
    as_of: date | None,
    fmt: str,
    fail_on: str | None,
    block_on: tuple[Any, ...] | None,
    allow_new_catalog: bool,
    output: Path | None,
) -> None:
    """Review a change to the catalog between two git revisions (exit 0, 1 or 2).

    BASE defaults to the merge base of HEAD with the default branch; HEAD to the
    working tree (also written "."). Both are read from git without touching the
    checkout and evaluated at the same as-of date. Exit 1 when the change introduces
    findings at or above the threshold or a weakening listed in block_on; the policy
    comes from the options, else from BASE, never from the change under review. Exit 2
    when the catalog path is a symbolic link or missing at BASE (see
    --allow-new-catalog).
    """
    from ..diff.review import review_change
    from ..model import Severity
    from ..report import diffjson, diffmd, sarif

    review = review_change(
        catalog,
        base,
        head,
        as_of=as_of,
        fail_on=Severity(fail_on.lower()) if fail_on else None,
        block_on=block_on,
        allow_new_catalog=allow_new_catalog,
    )
    print_diagnostics(list(review.head_warnings))
    if fmt == "markdown":
        body = diffmd.render(review)
    elif fmt == "json":
        body = diffjson.render(review)
    else:
        comparison = review.comparison
        body = sarif.render(comparison.findings.introduced if comparison else ())
    if output:
        output.write_text(body, encoding="utf-8")
    else:
        click.echo(body, nl=False)
    sys.exit(review.exit_code)


# --- review: reviewer worksheets (docs/reviewing-with-worksheets.md) --------------------
