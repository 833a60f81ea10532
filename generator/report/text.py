"""Findings for a terminal: grouped by control, colour-coded, with the fix for each."""

from __future__ import annotations

from itertools import groupby
from typing import IO

from rich.console import Console
from rich.markup import escape

from ..evaluation.evaluate import Evaluation
from ..model import Severity

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}


def render(
    evaluation: Evaluation, threshold: Severity, stream: IO[str], *, colour: bool | None = None
) -> None:
    """Write the text report to ``stream`` (colour when it is a terminal, unless told)."""
    console = Console(
        file=stream,
        soft_wrap=True,
        highlight=False,
        force_terminal=colour,
        no_color=colour is False,
    )
    period = evaluation.period
    console.print(
        f"[bold]{escape(evaluation.organisation)}[/]: as of {evaluation.as_of} "
        f"(assessed period {period.start} to {period.end})"
    )
    for control, group in groupby(evaluation.findings, key=lambda f: f.control):
        console.print()
        console.print(f"[bold]{escape(control) if control else 'Catalog-wide'}[/]")
        for finding in group:
            label = f"{finding.severity.upper():<8}" if finding.is_open else "waived  "
            style = _STYLE[finding.severity] if finding.is_open else "dim"
            console.print(
                f"  [{style}]{label}[/] {finding.rule:<6} {escape(str(finding.location))}: "
                f"{escape(finding.message)}"
            )
            if finding.is_open:
                console.print(f"           [dim]fix: {escape(finding.hint)}[/]")
            elif finding.waiver:
                waiver = finding.waiver
                console.print(
                    f"           [dim]waiver {escape(waiver.id)} by {escape(waiver.approver or '?')} "
                    f"until {waiver.expires}: {escape(waiver.reason or '')}[/]"
                )
            for note in finding.notes:
                console.print(f"           [yellow]{escape(note)}[/]")
    if evaluation.not_assessed:
        console.print()
        console.print("[bold]Not assessed[/]")
        for note in evaluation.not_assessed:
            console.print(f"  - {escape(str(note))}")
    counts = evaluation.by_severity()
    failing = len(evaluation.failing(threshold))
    breakdown = ", ".join(f"{n} {s}" for s, n in counts.items())
    console.print()
    console.print(
        f"[bold]{len(evaluation.open)} open finding(s)[/] ({breakdown}), "
        f"{len(evaluation.waived)} waived; {failing} at or above '{threshold}'"
    )
