"""The review of a change as Markdown for a pull-request comment (GitHub, GitLab).

Python builds a :class:`CommentView` with every sentence and count; the template
``templates/diff/comment.md.j2`` (through the project's environment factory, kind
``diff``) only lays it out. Every value printed is escaped by :func:`comment_escape`:
HTML and Markdown syntax become character references and @mentions are broken, so
catalog text can neither inject markup nor notify anyone.

The comment is capped at :data:`MAX_COMMENT_CHARS` (GitHub refuses a comment over 65,536
characters, and a CI job that cannot update its comment leaves the previous verdict in
place): when the whole review does not fit, the least important items are left out,
each section says how many, and a notice at the top points to the full report that
``--format json`` or ``sarif`` writes (a CI artifact).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from markupsafe import Markup

from ..diagnostics import Location
from ..diff import (
    ChangeKind,
    ControlDelta,
    DeltaStatus,
    ExceptionChange,
    ExceptionDelta,
    FieldChange,
    SettingChange,
)
from ..diff.review import ChangeReview
from ..evaluation.findings import Finding
from ..model import Severity, Weakening
from ..render.env import make_environment, md_escape

MARKER = "<!-- controlbook-diff -->"
"""Hidden first line, so that a CI job finds and updates its own comment."""

MAX_DIAGNOSTICS = 20

MAX_COMMENT_CHARS = 60_000
"""The longest comment :func:`render` writes: under GitHub's 65,536, with room to spare."""

_LABELS = {
    ChangeKind.OWNER_HISTORY: "owner history",
    ChangeKind.EXECUTOR: "executor",
    ChangeKind.FREQUENCY: "frequency",
    ChangeKind.POPULATION_ADDED: "population added",
    ChangeKind.POPULATION_REMOVED: "population removed",
    ChangeKind.POPULATION_CHANGED: "population changed",
    ChangeKind.APPROVAL: "approval rule",
    ChangeKind.RETENTION: "evidence retention",
    ChangeKind.MAPPING_ADDED: "mapping added",
    ChangeKind.MAPPING_REMOVED: "mapping removed",
    ChangeKind.SOD_RULESET_ADDED: "SoD rule set added",
    ChangeKind.SOD_RULESET_REMOVED: "SoD rule set removed",
    ChangeKind.KEY: "key control",
    ChangeKind.NATURE: "nature",
    ChangeKind.AUTOMATION: "automation",
}
_ADDED = {ChangeKind.POPULATION_ADDED, ChangeKind.MAPPING_ADDED, ChangeKind.SOD_RULESET_ADDED}
_REMOVED = {
    ChangeKind.POPULATION_REMOVED,
    ChangeKind.MAPPING_REMOVED,
    ChangeKind.SOD_RULESET_REMOVED,
}
_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")


def comment_escape(value: Any) -> Markup:
    """:func:`~generator.render.env.md_escape`, and ``@name`` followed by a zero-width space
    so that a pull-request comment mentions nobody (e-mail addresses are left alone)."""
    if isinstance(value, Markup):
        return value
    return Markup(_MENTION.sub("@&#8203;", md_escape(value)))


def source_url(repo_url: str | None, catalog: str, location: Location) -> str | None:
    """``{repo_url}/{path in the catalog}#L{line}`` for a location inside the catalog.

    ``repo_url`` (settings) is the web URL of the catalog folder, e.g.
    ``https://github.com/acme/itgc/blob/main/controls``. The template's ``link``
    filter drops any URL that is not plain http(s).
    """
    prefix = "" if catalog == "." else f"{catalog}/"
    if not repo_url or not location.file.startswith(prefix):
        return None
    url = f"{repo_url.rstrip('/')}/{quote(location.file.removeprefix(prefix))}"
    return f"{url}#L{location.line}" if location.line > 0 else url


@dataclass(frozen=True)
class Place:
    """A ``file:line`` to show, and its link when ``repo_url`` is set."""

    text: str
    url: str | None


@dataclass(frozen=True)
class FindingLine:
    rule: str
    control: str
    message: str
    hint: str
    place: Place


@dataclass(frozen=True)
class SeverityGroup:
    title: str
    findings: tuple[FindingLine, ...]


@dataclass(frozen=True)
class ChangeLine:
    """One line about a change; ``weakening`` names it, ``blocking`` when it fails CI."""

    text: str
    place: Place | None
    weakening: str
    blocking: bool


@dataclass(frozen=True)
class ControlBlock:
    id: str
    title: str
    place: Place
    lines: tuple[ChangeLine, ...]


@dataclass(frozen=True)
class CommentView:
    """Everything the comment template shows, computed here."""

    marker: str
    icon: str
    headline: str
    context: str
    base_problem: str
    base_diagnostics: tuple[str, ...]
    compared: bool
    introduced: tuple[SeverityGroup, ...]
    introduced_count: int
    resolved: tuple[SeverityGroup, ...]
    resolved_count: int
    head_failing: tuple[SeverityGroup, ...]
    changed: tuple[ControlBlock, ...]
    added: tuple[ChangeLine, ...]
    deleted: tuple[ChangeLine, ...]
    exceptions: tuple[ChangeLine, ...]
    settings: tuple[ChangeLine, ...]
    no_control_changes: bool
    more: Mapping[str, int] = field(default_factory=dict)
    """Per section, how many items were left out to keep the comment short."""

    @property
    def omitted(self) -> int:
        return sum(self.more.values())


class _Builder:
    """Turns a :class:`ChangeReview` into the view, with links from ``repo_url``."""

    def __init__(self, review: ChangeReview) -> None:
        self.review = review

    def place(self, location: Location, *, link: bool = True) -> Place:
        url = source_url(self.review.repo_url, self.review.catalog, location) if link else None
        text = f"{location.file}:{location.line}" if location.line > 0 else location.file
        return Place(text, url)

    def groups(self, findings: Iterable[Finding]) -> tuple[SeverityGroup, ...]:
        by_severity: dict[Severity, list[FindingLine]] = {s: [] for s in Severity}
        for f in findings:
            line = FindingLine(
                f.rule, f.control or "catalog-wide", f.message, f.hint, self.place(f.location)
            )
            by_severity[f.severity].append(line)
        return tuple(
            SeverityGroup(severity.capitalize(), tuple(lines))
            for severity, lines in by_severity.items()
            if lines
        )

    def flagged(self, text: str, place: Place | None, weakening: Weakening | None) -> ChangeLine:
        return ChangeLine(text, place, str(weakening or ""), self.review.blocks(weakening))

    def change(self, change: FieldChange) -> ChangeLine:
        if change.kind == ChangeKind.OTHER:
            text = f"{change.field} changed"
        else:
            label = (
                f"owner on {self.review.as_of}"
                if change.kind == ChangeKind.OWNER
                else _LABELS[change.kind]
            )
            if change.kind in _ADDED:
                value = change.after
            elif change.kind in _REMOVED:
                value = change.before
            else:
                value = f"{change.before or 'none'} → {change.after or 'none'}"
            text = f"{label}: {value}"
        if change.note:
            text += f" ({change.note})"
        return self.flagged(text, self.place(change.location), change.weakening)

    def control(self, delta: ControlDelta) -> ControlBlock:
        lines = tuple(self.change(c) for c in delta.changes)
        return ControlBlock(delta.id, delta.title, self.place(delta.location), lines)

    def added(self, delta: ControlDelta) -> ChangeLine:
        owner = delta.owner or f"no owner on {self.review.as_of}"
        text = f"{delta.id}: {delta.title} (owner {owner}, {delta.frequency})"
        return self.flagged(text, self.place(delta.location), None)

    def deleted(self, delta: ControlDelta) -> ChangeLine:
        text = f"{delta.id}: {delta.title} (was at {self.place(delta.location).text})"
        if delta.uncovered:
            text += f"; no control maps {', '.join(delta.uncovered)} any more"
        return self.flagged(text, None, Weakening.CONTROL_REMOVED)

    def exception(self, delta: ExceptionDelta) -> ChangeLine:
        subject = f"{delta.id} ({delta.person}: {' / '.join(delta.conflict)})"
        before = str(delta.before_expiry or "never")
        after = str(delta.after_expiry or "never")
        text = {
            ExceptionChange.ADDED: f"{subject} added, expires {after}",
            ExceptionChange.REMOVED: f"{subject} removed",
            ExceptionChange.EXTENDED: f"{subject} expiry extended: {before} → {after}",
            ExceptionChange.SHORTENED: f"{subject} expiry brought forward: {before} → {after}",
            ExceptionChange.CHANGED: f"{subject} changed: {', '.join(delta.fields)}",
        }[delta.change]
        link = delta.change != ExceptionChange.REMOVED
        return self.flagged(text, self.place(delta.location, link=link), delta.weakening)

    def setting(self, change: SettingChange) -> ChangeLine:
        text = f"{change.field}: {change.before or 'none'} → {change.after or 'none'}"
        if change.weakening:
            text += " (relaxes the review policy of later changes)"
        return self.flagged(text, self.place(change.location), change.weakening)

    def context(self) -> str:
        review = self.review
        blocking = ", ".join(review.block_on) or "nothing"
        return (
            f"Catalog {review.catalog} at {review.base.label} compared with {review.head.label}, "
            f"as of {review.as_of}. Fails on findings at or above {review.threshold} "
            f"and on weakenings: {blocking} ({review.policy_text})."
        )

    def build(self) -> CommentView:
        review, comparison = self.review, self.review.comparison
        problem = review.base_problem
        diagnostics = [str(d).split("\n", 1)[0] for d in problem.diagnostics] if problem else []
        if len(diagnostics) > MAX_DIAGNOSTICS:
            more = len(diagnostics) - MAX_DIAGNOSTICS
            diagnostics = [*diagnostics[:MAX_DIAGNOSTICS], f"and {more} more"]
        deltas = comparison.controls if comparison else ()

        def having(status: DeltaStatus) -> list[ControlDelta]:
            return [d for d in deltas if d.status == status]

        icon = "❌" if review.failed else ("⚠️" if comparison is None else "✅")
        return CommentView(
            marker=MARKER,
            icon=icon,
            headline=review.headline,
            context=self.context(),
            base_problem=problem.message if problem else "",
            base_diagnostics=tuple(diagnostics),
            compared=comparison is not None,
            introduced=self.groups(comparison.findings.introduced if comparison else ()),
            introduced_count=len(comparison.findings.introduced) if comparison else 0,
            resolved=self.groups(comparison.findings.resolved if comparison else ()),
            resolved_count=len(comparison.findings.resolved) if comparison else 0,
            head_failing=self.groups(review.failing_findings if comparison is None else ()),
            changed=tuple(self.control(d) for d in having(DeltaStatus.CHANGED)),
            added=tuple(self.added(d) for d in having(DeltaStatus.ADDED)),
            deleted=tuple(self.deleted(d) for d in having(DeltaStatus.DELETED)),
            exceptions=tuple(self.exception(e) for e in comparison.exceptions)
            if comparison
            else (),
            settings=tuple(self.setting(s) for s in comparison.settings) if comparison else (),
            no_control_changes=comparison is not None and not comparison.has_control_changes,
        )


def environment() -> Environment:
    """The project's ``diff`` environment, printing every value through :func:`comment_escape`.

    ``finalize`` is replaced before any template is loaded, as Jinja requires.
    """
    env = make_environment("diff")
    env.finalize = comment_escape
    env.filters["md"] = comment_escape
    return env


def build_view(review: ChangeReview) -> CommentView:
    return _Builder(review).build()


def _take_groups(
    groups: tuple[SeverityGroup, ...], budget: int
) -> tuple[tuple[SeverityGroup, ...], int]:
    kept: list[SeverityGroup] = []
    used = 0
    for group in groups:
        findings = group.findings[: max(budget - used, 0)]
        used += len(findings)
        if findings:
            kept.append(SeverityGroup(group.title, findings))
    return tuple(kept), used


def _take_blocks(
    blocks: tuple[ControlBlock, ...], budget: int
) -> tuple[tuple[ControlBlock, ...], int]:
    """Changed controls, their lines counted one unit each (a control without lines: one)."""
    kept: list[ControlBlock] = []
    used = 0
    for block in blocks:
        if used >= budget:
            break
        lines = block.lines[: budget - used]
        used += max(len(lines), 1)
        kept.append(replace(block, lines=lines))
    return tuple(kept), used


def _take_lines(lines: tuple[ChangeLine, ...], budget: int) -> tuple[tuple[ChangeLine, ...], int]:
    kept = lines[: max(budget, 0)]
    return kept, len(kept)


def _units(view: CommentView, name: str) -> int:
    value = getattr(view, name)
    if name == "changed":
        return sum(max(len(b.lines), 1) for b in value)
    if name in _GROUPED:
        return sum(len(g.findings) for g in value)
    return len(value)


_GROUPED = ("introduced", "head_failing", "resolved")
_PRIORITY: tuple[tuple[str, Callable[[Any, int], tuple[Any, int]]], ...] = (
    ("introduced", _take_groups),
    ("head_failing", _take_groups),
    ("deleted", _take_lines),
    ("exceptions", _take_lines),
    ("settings", _take_lines),
    ("changed", _take_blocks),
    ("resolved", _take_groups),
    ("added", _take_lines),
)
"""Sections in the order they keep their items when the comment must be shortened: what
can fail the change first, new controls (which weaken nothing) last."""


def shorten(view: CommentView, budget: int) -> CommentView:
    """``view`` showing at most ``budget`` items, taken section by section in
    :data:`_PRIORITY` order; ``more`` counts what each section leaves out."""
    changes: dict[str, Any] = {}
    more: dict[str, int] = {}
    for name, take in _PRIORITY:
        kept, used = take(getattr(view, name), budget)
        budget -= used
        left_out = _units(view, name) - used
        changes[name] = kept
        if left_out:
            more[name] = left_out
    return replace(view, **changes, more=more)


def _notice(limit: int) -> str:
    return (
        f"\n\n> **Shortened to {limit:,} characters**: the rest of the review is in the full "
        "report (the CI job's artifact, or `controlbook diff --format json`).\n"
    )


def render(review: ChangeReview, *, limit: int = MAX_COMMENT_CHARS) -> str:
    """The pull-request comment for ``review``, starting with :data:`MARKER`, at most
    ``limit`` characters long (see the module docstring)."""
    template = environment().get_template("comment.md.j2")

    def text(view: CommentView) -> str:
        return template.render(view=view).rstrip("\n") + "\n"

    view = build_view(review)
    full = text(view)
    if len(full) <= limit:
        return full
    total = sum(_units(view, name) for name, _ in _PRIORITY)
    best, low, high = text(shorten(view, 0)), 1, total - 1
    while low <= high:  # the most items that fit
        middle = (low + high) // 2
        candidate = text(shorten(view, middle))
        if len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if len(best) <= limit:
        return best
    notice = _notice(limit)  # even the headline and BASE's errors do not fit: cut the text
    cut = best[: limit - len(notice)]
    return cut[: cut.rfind("\n") + 1].rstrip("\n") + notice
