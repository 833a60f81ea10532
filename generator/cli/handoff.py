"""Commands for the auditor: reproducible samples and the OSCAL export."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from .base import (
    AS_OF,
    CATALOG_ARG,
    OUTPUT,
    main,
    parse_period,
    print_diagnostics,
)


@main.command()
@CATALOG_ARG
@click.option("--control", "control_id", required=True, help="The control to sample.")
@AS_OF
@click.option(
    "--period",
    callback=parse_period,
    metavar="START..END",
    help="Sample the reviews of this period (default: the assessed period).",
)
@click.option("--seed", help="The seed (default: the control ID and the sampled period).")
@click.option(
    "--size", type=click.IntRange(1, 1000), help="Items to draw (default: settings, else 25)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "xlsx"]),
    default="text",
    show_default=True,
    help="text, or a test workpaper: csv or xlsx (xlsx needs --output).",
)
@OUTPUT
@click.option(
    "--population",
    "population_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the population's keys (sorted, one per line) to re-draw the sample.",
)
def sample(
    catalog: Path,
    control_id: str,
    as_of: date | None,
    period: Any,
    seed: str | None,
    size: int | None,
    fmt: str,
    output: Path | None,
    population_file: Path | None,
) -> None:
    """Draw a reproducible audit sample of a control's review items, with a test workpaper.

    Items are ranked by sha256(seed + item key): anyone can draw the same sample with
    sha256sum and sort. The seed, the population's hash and the method are printed with it.
    """
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..diagnostics import did_you_mean
    from ..errors import InputError
    from ..evaluation.evaluate import evaluate
    from ..evaluation.sampling import draw
    from ..report import samples

    loaded = load_catalog(catalog, cache=parse_cache())
    control = loaded.controls.get(control_id)
    if control is None:
        hint = did_you_mean(control_id, loaded.controls)
        raise InputError(f"no control {control_id!r} in the catalog{hint}")
    if fmt == "xlsx" and output is None:
        raise InputError("--format xlsx writes a workbook: give --output FILE.xlsx")
    evaluation = evaluate(loaded, as_of)
    drawn = draw(loaded, evaluation, control, seed=seed, size=size, period=period)
    if population_file:
        population_file.write_text("".join(f"{k}\n" for k in drawn.population), encoding="utf-8")
    if fmt == "xlsx":
        assert output is not None
        output.write_bytes(samples.render_xlsx(drawn, evaluation.as_of))
        return
    text = samples.render_csv(drawn) if fmt == "csv" else samples.render_text(drawn)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.group()
def export() -> None:
    """Export the catalog and its evaluation in other tools' formats."""


@export.command(name="oscal")
@CATALOG_ARG
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the OSCAL JSON documents into (created if needed).",
)
@AS_OF
@click.option("--strict", is_flag=True, help="Treat catalog warnings as errors.")
def export_oscal_command(catalog: Path, out: Path, as_of: date | None, strict: bool) -> None:
    """Write OSCAL 1.1.2 JSON: component definition (controls against NIST CSF 2.0),
    assessment plan, assessment results (findings as observations) and, when findings
    are open, a POA&M (exit 0 or 2). The same catalog and as-of date give the same bytes;
    see docs/oscal.md."""
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evaluation.evaluate import evaluate
    from ..publish.oscal import export_oscal

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    print_diagnostics(loaded.warnings)
    written = export_oscal(loaded, evaluate(loaded, as_of), out)
    for path in written.written:
        click.echo(f"  wrote {path}")
    for path in written.removed:
        click.echo(f"  removed {path} (no open finding: no POA&M)")
