"""What every ``controlbook`` command shares: the command group, its error handling and
exit codes, and the common options.

The command line is the only part of Controlbook that imports click. Exit codes (see :mod:`generator.errors`):
0 ok, 1 findings at or above the threshold, 2 usage or data errors.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..catalog.gctune import tune_for_large_catalogs
from ..diagnostics import printable
from ..errors import EXIT_ERROR, CatalogInvalid, ControlbookError

CATALOG_ARG = click.argument(
    "catalog", default="controls", type=click.Path(path_type=Path), metavar="[CATALOG]"
)


def print_diagnostics(diagnostics: list[Any], *, stream: Any = None) -> None:
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


def summary_of(diagnostics: list[Any]) -> str:
    errors = sum(1 for d in diagnostics if d.level == "error")
    warnings = len(diagnostics) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def describe_os_error(exc: OSError) -> str:
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
            print_diagnostics(exc.diagnostics)
            click.echo(f"controlbook: catalog is invalid: {summary_of(exc.diagnostics)}", err=True)
            sys.exit(exc.exit_code)
        except ControlbookError as exc:
            click.echo(f"controlbook: error: {printable(str(exc), limit=2000)}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if os.environ.get("CONTROLBOOK_DEBUG"):
                raise
            click.echo(f"controlbook: error: {describe_os_error(exc)}", err=True)
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
    tune_for_large_catalogs()


SEVERITIES = click.Choice(["critical", "high", "medium", "low"], case_sensitive=False)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    from ..model.base import EARLIEST, LATEST

    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST <= day <= LATEST:  # the range the catalog's own dates must keep to
        raise click.BadParameter(f"{value} is outside the supported dates ({EARLIEST} to {LATEST})")
    return day


def parse_period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from pydantic import ValidationError

    from ..model import Period

    start, sep, end = value.partition("..")
    try:
        if not sep:
            raise ValueError
        return Period(start=date.fromisoformat(start), end=date.fromisoformat(end))
    except (ValueError, ValidationError) as exc:
        detail = f": {exc.errors()[0]['msg']}" if isinstance(exc, ValidationError) else ""
        raise click.BadParameter(f"{value!r} is not START..END (two ISO dates){detail}") from None


def parse_weakenings(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[Any, ...] | None:
    """``--block-on a,b``: weakening kinds; an empty value blocks on nothing."""
    if value is None:
        return None
    from ..model import Weakening

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
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Evaluate as of this date (default: the catalog's as_of, else today).",
)


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


def progress_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False)
