"""Commands that bring evidence in: import an export, start and collect an access review."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..diagnostics import printable
from .base import (
    main,
    parse_period,
)


def _parse_scope(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[Any, ...]:
    """``--scope privileged,service``: account types."""
    from ..model import AccountType

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
    from ..evidence.importers import FORMATS, REVIEW_FORMATS

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
    from ..evidence.importers import REVIEW_FORMATS

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
    from ..catalog.parsecache import parse_cache
    from ..evidence.importers.register import ImportRequest, run_import
    from ..model import ExtractKind

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
    from ..catalog.parsecache import parse_cache
    from ..evidence.importers.sailpoint_review import CampaignRequest, run_campaign_import

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


@main.group()
def review() -> None:
    """Start an access review from an extract, issue worksheets to its deciders, collect them."""


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
    from ..catalog.loader import load_catalog
    from ..evidence.worksheets.routing import route
    from ..evidence.worksheets.writing import write_worksheets

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
    from ..evidence.worksheets.collecting import WorksheetProblems, collect

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
    callback=parse_period,
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
    from ..catalog.loader import load_catalog
    from ..catalog.parsecache import parse_cache
    from ..evidence.reviewstub import new_review

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
