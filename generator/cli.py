"""The ``controlbook`` command line: parse arguments, call the library, print, exit.

This is the only module that imports click. Exit codes (see :mod:`generator.errors`):
0 ok, 1 findings at or above the threshold, 2 usage or data errors.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from . import __version__
from .diagnostics import printable
from .errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, CatalogInvalid, ControlbookError

CATALOG_ARG = click.argument(
    "catalog", default="controls", type=click.Path(path_type=Path), metavar="[CATALOG]"
)


def _print_diagnostics(diagnostics: list[Any], *, stream: Any = None) -> None:
    colour = {"error": "red", "warning": "yellow"}
    for diagnostic in diagnostics:
        text = str(diagnostic)
        head, _, rest = text.partition("\n")
        head = head.replace(
            f": {diagnostic.level}:",
            ": " + click.style(str(diagnostic.level), fg=colour[diagnostic.level], bold=True) + ":",
            1,
        )
        click.echo(head + ("\n" + rest if rest else ""), err=True)


def _summary(diagnostics: list[Any]) -> str:
    errors = sum(1 for d in diagnostics if d.level == "error")
    warnings = len(diagnostics) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def _describe_os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    if where is None:
        return reason
    return f"{printable(os.fsdecode(where))}: {reason}"


class ControlbookGroup(click.Group):
    """Every command runs inside one error boundary: library errors print as a clear
    message, OS errors (full disk, read-only folder…) as one line naming the file, and an
    unexpected exception as one line naming the command: exit 2 each, never a traceback
    (1 stays "findings"). ``CONTROLBOOK_DEBUG=1`` re-raises for a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CatalogInvalid as exc:
            _print_diagnostics(exc.diagnostics)
            click.echo(f"controlbook: catalog is invalid: {_summary(exc.diagnostics)}", err=True)
            sys.exit(exc.exit_code)
        except ControlbookError as exc:
            click.echo(f"controlbook: error: {printable(str(exc), limit=2000)}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if os.environ.get("CONTROLBOOK_DEBUG"):
                raise
            click.echo(f"controlbook: error: {_describe_os_error(exc)}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("CONTROLBOOK_DEBUG"):
                raise
            command = ctx.invoked_subcommand or "controlbook"
            detail = printable(f"{type(exc).__name__}: {exc}", limit=500)
            click.echo(
                f"controlbook: internal error in '{command}': {detail} "
                "(this is a bug; CONTROLBOOK_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(EXIT_ERROR)


@click.group(cls=ControlbookGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="controlbook")
def main() -> None:
    """Keep an IT control catalog honest: validate it, find ownership and evidence
    gaps, and publish it as a site, signed PDF narratives and pull-request reviews.

    Exit codes: 0 ok; 1 findings at or above the threshold; 2 usage or data error.
    """


@main.command()
@CATALOG_ARG
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. unknown keys) as errors.")
def validate(catalog: Path, strict: bool) -> None:
    """Load and validate a catalog; report every error and warning (exit 0 or 2)."""
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evidence.extracts import extract_diagnostics

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    problems = extract_diagnostics(loaded)  # what check and build would stop on
    if problems:
        raise CatalogInvalid(sorted([*loaded.warnings, *problems], key=lambda d: d.sort_key()))
    _print_diagnostics(loaded.warnings)
    counts = (
        f"{len(loaded.controls)} controls, {len(loaded.reviews)} reviews, "
        f"{len(loaded.people)} people, {len(loaded.systems)} systems"
    )
    click.echo(f"{loaded.display_root}: valid ({counts}; {_summary(loaded.warnings)})")


SEVERITIES = click.Choice(["critical", "high", "medium", "low"], case_sensitive=False)


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    from .model.base import EARLIEST, LATEST

    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST <= day <= LATEST:  # the range the catalog's own dates must keep to
        raise click.BadParameter(f"{value} is outside the supported dates ({EARLIEST} to {LATEST})")
    return day


def _parse_period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from pydantic import ValidationError

    from .model import Period

    start, sep, end = value.partition("..")
    try:
        if not sep:
            raise ValueError
        return Period(start=date.fromisoformat(start), end=date.fromisoformat(end))
    except (ValueError, ValidationError) as exc:
        detail = f": {exc.errors()[0]['msg']}" if isinstance(exc, ValidationError) else ""
        raise click.BadParameter(f"{value!r} is not START..END (two ISO dates){detail}") from None


def _parse_weakenings(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[Any, ...] | None:
    """``--block-on a,b``: weakening kinds; an empty value blocks on nothing."""
    if value is None:
        return None
    from .model import Weakening

    kinds = [k.strip() for k in value.split(",") if k.strip()]
    known = [str(w) for w in Weakening]
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown weakening {', '.join(map(repr, unknown))} (one of: {', '.join(known)})"
        )
    return tuple(Weakening(k) for k in kinds)


OUTPUT = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to a file.",
)

AS_OF = click.option(
    "--as-of",
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="Evaluate as of this date (default: the catalog's as_of, else today).",
)


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
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evaluation.evaluate import evaluate
    from .model import Severity
    from .report import csvout, jsonout, sarif, text

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    _print_diagnostics(loaded.warnings)
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


SITE_OUT_RULE = (
    "a new or empty folder or a site Controlbook built, never the catalog, "
    "the repository root or the home folder"
)

JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="PDF render processes (default: all cores)."
)
TEMPLATES_OPT = click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder whose site/ and pdf/ templates override the built-in ones.",
)


def _progress_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False)


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
    from .publish.build import build

    console = _progress_console()
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
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evaluation.evaluate import evaluate
    from .publish.build import pdf_cache
    from .publish.destination import check_pdf_destination, claim_pdf_destination
    from .publish.narratives import render_narratives
    from .resources import SOURCE_TREE
    from .signing.sign import load_signer
    from .views import CatalogViews

    check_pdf_destination(out, catalog)
    loaded = load_catalog(catalog, cache=parse_cache())
    views = CatalogViews(loaded, evaluate(loaded, as_of))
    signer = load_signer(loaded.settings, loaded.root, forbidden=(SOURCE_TREE,))
    claim_pdf_destination(out)
    console = _progress_console()
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
    from .signing.verify import verify_pdfs

    if bundle is not None:
        if pdfs or catalog:
            raise click.UsageError("--bundle takes no PDF or --catalog: the bundle holds both")
        from .publish.bundleverify import verify_bundle

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
    from .publish.bundle import Reports, make_bundle
    from .report import csvout, jsonout, samples, sarif

    reports = Reports(
        findings=lambda evaluation, threshold: {
            "findings.json": jsonout.render(evaluation, threshold),
            "findings.sarif": sarif.render(evaluation.findings),
            "findings.csv": csvout.render(evaluation),
        },
        sample_csv=samples.render_csv,
    )
    console = _progress_console()
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

    from .publish.serve import make_server

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


@main.command()
@CATALOG_ARG
@click.option("--control", "control_id", required=True, help="The control to sample.")
@AS_OF
@click.option(
    "--period",
    callback=_parse_period,
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
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .diagnostics import did_you_mean
    from .errors import InputError
    from .evaluation.evaluate import evaluate
    from .evaluation.sampling import draw
    from .report import samples

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


@main.command()
@CATALOG_ARG
@AS_OF
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
def coverage(catalog: Path, as_of: date | None, fmt: str) -> None:
    """Show NIST CSF 2.0 and OWASP NHI coverage by the catalog's controls."""
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evaluation.coverage import compute
    from .evaluation.evaluate import evaluate
    from .report import coverage as render

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
    from .catalog.schema import schema_json

    text = schema_json()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _parse_scope(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[Any, ...]:
    """``--scope privileged,service``: account types."""
    from .model import AccountType

    kinds = [k.strip() for k in (value or "").split(",") if k.strip()]
    known = [str(t) for t in AccountType]
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown account type {', '.join(map(repr, unknown))} (one of: {', '.join(known)})"
        )
    return tuple(AccountType(k) for k in dict.fromkeys(kinds))


def _parse_moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """``--extracted-at 2026-09-30T18:00:00Z`` (no zone: UTC)."""
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM:SSZ)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _import_formats() -> list[str]:
    from .evidence.importers import FORMATS, REVIEW_FORMATS

    return [*FORMATS, *REVIEW_FORMATS]


@main.command(name="import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_import_formats()))
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE...",
)
@click.option(
    "--catalog",
    type=click.Path(path_type=Path),
    default=Path("controls"),
    show_default=True,
    help="The catalog folder.",
)
@click.option(
    "--system",
    "systems",
    multiple=True,
    metavar="ID",
    help="The system the export is of (several only for a csv export with a system column); "
    "required, except for sailpoint-campaign (there: the system of every source).",
)
@click.option(
    "--review",
    metavar="ID",
    help="sailpoint-campaign only: the review whose decisions the campaign reports are.",
)
@click.option(
    "--scope",
    callback=_parse_scope,
    metavar="TYPES",
    help="Account types the export covers, comma-separated (rows of other types are left "
    "out); default: the whole system.",
)
@click.option(
    "--kind",
    type=click.Choice(["accounts", "report", "events"]),
    default="accounts",
    show_default=True,
    help="accounts: a snapshot (the state of the system); report or events: evidence only.",
)
@click.option(
    "--extracted-at",
    callback=_parse_moment,
    metavar="DATETIME",
    help="When the export was taken; required unless the export says so itself.",
)
@click.option("--source", metavar="TEXT", help="Source text (default: what the export is).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML mapping: who is behind each account, account types, and for csv the columns.",
)
def import_command(
    fmt: str,
    files: tuple[Path, ...],
    catalog: Path,
    systems: tuple[str, ...],
    scope: tuple[Any, ...],
    kind: str,
    extracted_at: Any,
    source: str | None,
    mapping: Path | None,
    review: str | None,
) -> None:
    """Import a tool's export as an account extract of a system (exit 0 or 2).

    FORMAT is one of the formats documented in docs/importing.md; several
    FILEs are pages of one export. The raw export is kept unchanged under
    evidence/raw/<system>/, the normalised extract is written to extracts/<system>/ and
    registered under the system's extracts: with its source, time, rows, sha256 and the
    raw file's sha256. All or nothing; the same import again changes no byte.

    sailpoint-campaign reads a SailPoint campaign's Status, Remediation Status and Sign Off
    reports into the review given by --review: its items file, sign-off and attachments.
    """
    from .evidence.importers import REVIEW_FORMATS

    if fmt in REVIEW_FORMATS:
        _import_review(
            fmt, files, catalog, systems, review, mapping, scope, kind, extracted_at, source
        )
        return
    if review is not None:
        raise click.UsageError(
            f"--review is for {', '.join(REVIEW_FORMATS)}; {fmt} imports an extract"
        )
    if not systems:
        raise click.UsageError(f"{fmt} needs --system ID: the system the export is of")
    from .catalog.parsecache import parse_cache
    from .evidence.importers.register import ImportRequest, run_import
    from .model import ExtractKind

    result = run_import(
        ImportRequest(
            format=fmt,
            files=files,
            catalog=catalog,
            systems=systems,
            scope=scope,
            kind=ExtractKind(kind),
            extracted_at=extracted_at,
            source=source,
            mapping=mapping,
        ),
        cache=parse_cache(),
    )
    if result.unchanged:
        click.echo(
            f"already imported: {result.extract} is registered at {result.registered} "
            "and unchanged; nothing written"
        )
    else:
        click.echo(
            f"imported {result.records} row(s), {result.accounts} account(s), taken at "
            f"{result.extracted_at:%Y-%m-%dT%H:%M:%SZ}, into {result.extract}"
        )
    for raw in result.raw:
        click.echo(f"  raw export: {raw}")
    if result.details:
        click.echo(f"  details:    {result.details}")
    if result.mapping:
        click.echo(f"  mapping:    {result.mapping}")
    click.echo(f"  registered: {result.registered}")
    if result.left_out:
        click.echo(f"  left out:   {result.left_out} row(s) outside --scope")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.without_person:
        shown = ", ".join(result.without_person[:8])
        more = len(result.without_person) - 8
        click.echo(
            f"  note: {len(result.without_person)} personal account(s) have no person: "
            f"{shown}{f' and {more} more' if more > 0 else ''}. Map them under people: in "
            "--mapping, or ORP-1, LVR-1 and the SoD rules cannot see them.",
            err=True,
        )


def _import_review(
    fmt: str,
    files: tuple[Path, ...],
    catalog: Path,
    systems: tuple[str, ...],
    review: str | None,
    mapping: Path | None,
    scope: tuple[Any, ...],
    kind: str,
    extracted_at: Any,
    source: str | None,
) -> None:
    """``import sailpoint-campaign``: a campaign's reports into a review."""
    if review is None:
        raise click.UsageError(f"{fmt} needs --review ID: the review the campaign decided")
    extra = [
        name
        for name, given in (
            ("--scope", bool(scope)),
            ("--kind", kind != "accounts"),
            ("--extracted-at", extracted_at is not None),
            ("--source", source is not None),
        )
        if given
    ]
    if extra or len(set(systems)) > 1:
        wrong = ", ".join(extra) or "--system more than once"
        raise click.UsageError(f"{fmt} imports decisions, not an extract: {wrong} does not apply")
    from .catalog.parsecache import parse_cache
    from .evidence.importers.sailpoint_review import CampaignRequest, run_campaign_import

    result = run_campaign_import(
        CampaignRequest(files, catalog, review, systems[0] if systems else None, mapping),
        cache=parse_cache(),
    )
    decided = ", ".join(f"{n} {d}" for d, n in sorted(result.decided.items())) or "none"
    if result.unchanged:
        click.echo(f"already imported: {result.items_file} and {result.review_file} unchanged")
    else:
        click.echo(
            f"imported {result.items} decision item(s) ({decided}; {result.undecided} "
            f"undecided) into {result.items_file}"
        )
    for raw in result.raw:
        click.echo(f"  raw report: {raw}")
    click.echo(f"  review:     {result.review_file}")
    click.echo(f"  sign-off:   {result.sign_off or 'not recorded'}")
    for note in result.notes:
        click.echo(f"  note: {note}", err=True)
    if result.not_in_campaign:
        click.echo(
            f"  {len(result.not_in_campaign)} account(s) of {result.extract} are not in the "
            f"campaign: {'; '.join(result.not_in_campaign)}. POP-3 reports them until they are "
            "reviewed.",
            err=True,
        )


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(directory: Path, force: bool) -> None:
    """Create a small, valid, commented catalog in DIRECTORY to start from."""
    from .catalog.scaffold import scaffold

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
    callback=_parse_weakenings,
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
    from .diff.review import review_change
    from .model import Severity
    from .report import diffjson, diffmd, sarif

    review = review_change(
        catalog,
        base,
        head,
        as_of=as_of,
        fail_on=Severity(fail_on.lower()) if fail_on else None,
        block_on=block_on,
        allow_new_catalog=allow_new_catalog,
    )
    _print_diagnostics(list(review.head_warnings))
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


@main.group()
def review() -> None:
    """Run an access review with worksheets: issue one per decider, collect them back."""


REVIEW_CATALOG = click.option(
    "--catalog",
    "catalog",
    default="controls",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The catalog folder.",
)


@review.command(name="worksheets")
@click.argument("review_id", metavar="REVIEW")
@REVIEW_CATALOG
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write the worksheets into.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
)
def review_worksheets(review_id: str, catalog: Path, out: Path, fmt: str) -> None:
    """Write one worksheet per decider of REVIEW's population, routed by the control's
    approval rule; items nobody can decide are listed (and written to _unrouted.csv)."""
    from .catalog.loader import load_catalog
    from .evidence.worksheets.routing import route
    from .evidence.worksheets.writing import write_worksheets

    routing = route(load_catalog(catalog), review_id)
    issued = write_worksheets(routing, out, fmt)
    for name, rows in issued.files:
        click.echo(f"{out / name}: {rows} row(s)")
    click.echo(
        f"{sum(r for _, r in issued.files)} item(s) of {review_id} routed to "
        f"{len(issued.files)} decider(s) by the approval rule "
        f"({routing.control.approval.approver if routing.control.approval else '?'})"
    )
    rerouted = [r for r in routing.rows if r.decider and "instead" in r.why]
    for routed in rerouted:
        click.echo(f"  rerouted: {routed.item.account} ({routed.item.entitlement}): {routed.why}")
    if issued.unrouted:
        click.echo(f"{len(issued.unrouted)} item(s) have no decider (see {out / '_unrouted.csv'}):")
        for routed in issued.unrouted:
            click.echo(f"  {routed.item.account} ({routed.item.entitlement}): {routed.why}")


@review.command(name="collect")
@click.argument("review_id", metavar="REVIEW")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="DIR...")
@REVIEW_CATALOG
@click.option(
    "--at",
    callback=_parse_moment,
    metavar="DATETIME",
    help="When the decisions were received, recorded as each item's decided_at "
    "(default: now, in UTC).",
)
def review_collect(review_id: str, dirs: tuple[Path, ...], catalog: Path, at: Any) -> None:
    """Validate the returned worksheets in DIR... and record their decisions as REVIEW's
    items file, keeping each returned file as evidence (exit 2, nothing written, on any
    problem)."""
    from .evidence.worksheets.collecting import WorksheetProblems, collect

    try:
        done = collect(catalog, review_id, list(dirs), at)
    except WorksheetProblems as exc:
        for problem in exc.problems:
            click.echo(printable(problem, limit=500), err=True)
        click.echo(f"controlbook: error: {exc}; nothing was written", err=True)
        sys.exit(exc.exit_code)
    for ignored in done.ignored:
        click.echo(f"ignored {ignored} (not a returned worksheet)")
    click.echo(
        f"{done.items_file}: {done.decided} item(s) decided, {done.undecided} undecided "
        f"(EVD-1 reports them), decided_at {done.at:%Y-%m-%dT%H:%M:%SZ}; "
        f"{len(done.returned)} returned file(s) kept as attachments"
    )


@review.command(name="new")
@click.argument("control_id", metavar="CONTROL")
@click.argument("population_id", metavar="POPULATION")
@click.option(
    "--extract",
    "extract_file",
    required=True,
    metavar="FILE",
    help="The accounts extract to review, as listed under its system's extracts: "
    "(e.g. an imported one).",
)
@click.option(
    "--catalog",
    type=click.Path(path_type=Path),
    default=Path("controls"),
    show_default=True,
    help="The catalog folder.",
)
@click.option(
    "--period",
    callback=_parse_period,
    metavar="START..END",
    help="The reviewed period (default: the control's period containing the extraction day).",
)
@click.option(
    "--id", "review_id", metavar="ID", help="Review ID (default: CONTROL-POPULATION-PERIOD)."
)
@click.option("--reviewer", "reviewers", multiple=True, metavar="PERSON", help="Assigned reviewer.")
def review_new(
    control_id: str,
    population_id: str,
    extract_file: str,
    catalog: Path,
    period: Any,
    review_id: str | None,
    reviewers: tuple[str, ...],
) -> None:
    """Write a review to be decided from an extract: its population evidence filled in from
    the extract's record, one item per account and entitlement of the population, each
    decision left empty (exit 0, or 2 with nothing written)."""
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evidence.reviewstub import new_review

    loaded = load_catalog(catalog, cache=parse_cache())
    stub = new_review(
        loaded,
        control_id,
        population_id,
        extract_file,
        period=period,
        review_id=review_id,
        reviewers=reviewers,
    )
    click.echo(
        f"wrote {stub.file}: review {stub.review_id} of {stub.period.start}..{stub.period.end}, "
        f"{stub.items} item(s) to decide"
    )


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
    from .catalog.loader import load_catalog
    from .catalog.parsecache import parse_cache
    from .evaluation.evaluate import evaluate
    from .publish.oscal import export_oscal

    loaded = load_catalog(catalog, strict=strict, cache=parse_cache())
    _print_diagnostics(loaded.warnings)
    written = export_oscal(loaded, evaluate(loaded, as_of), out)
    for path in written.written:
        click.echo(f"  wrote {path}")
    for path in written.removed:
        click.echo(f"  removed {path} (no open finding: no POA&M)")


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="controlbook")
