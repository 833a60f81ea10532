"""Review a change to a catalog: read BASE and HEAD from git, evaluate both at one as-of
date, compare them, and decide whether the change fails.

HEAD must be a valid catalog (else :class:`~generator.errors.CatalogInvalid`, exit 2).
When BASE cannot be read or is invalid, the review says so and holds no comparison:
HEAD's findings are then judged on their own, never presented as introduced.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..catalog.gitsource import GitError, checkout, default_base, repo_root, resolve_commit
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..diagnostics import Diagnostic
from ..errors import EXIT_FINDINGS, EXIT_OK, CatalogInvalid, ControlbookError
from ..evaluation.evaluate import INTERNAL_ERROR, Evaluation, evaluate
from ..evaluation.findings import Finding
from ..model import Catalog, Severity, Weakening
from . import Comparison, ControlDelta, ExceptionDelta, compare

WORKTREE = "."
"""How the working tree is named in place of a HEAD revision."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the revision as named, and its commit (None: working tree)."""

    revision: str
    commit: str | None

    @property
    def label(self) -> str:
        if self.commit is None:
            return "the working tree"
        short = self.commit[:7]
        return short if self.revision.startswith(short) else f"{self.revision} ({short})"


@dataclass(frozen=True)
class BaseProblem:
    """Why BASE could not be compared, with its diagnostics when it is an invalid catalog."""

    message: str
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class ChangeReview:
    """The review of one change: both sides, HEAD's evaluation, and the comparison.

    ``comparison`` is ``None`` when BASE could not be read (``base_problem`` says why).
    ``catalog`` is the catalog's path in the repository; ``threshold``, ``block_on``
    and ``repo_url`` come from HEAD (``threshold`` unless given on the command line).
    """

    catalog: str
    base: Side
    head: Side
    as_of: date
    threshold: Severity
    block_on: tuple[Weakening, ...]
    repo_url: str | None
    head_evaluation: Evaluation
    head_warnings: tuple[Diagnostic, ...]
    comparison: Comparison | None
    base_problem: BaseProblem | None = None

    def fails(self, finding: Finding) -> bool:
        """Whether an open finding is at or above the threshold (an internal error always is)."""
        return finding.severity.at_least(self.threshold) or finding.rule == INTERNAL_ERROR

    @property
    def failing_findings(self) -> tuple[Finding, ...]:
        """Introduced findings at or above the threshold; without a comparison, all of HEAD's."""
        if self.comparison is None:
            return tuple(self.head_evaluation.failing(self.threshold))
        return tuple(f for f in self.comparison.findings.introduced if self.fails(f))

    def blocks(self, weakening: Weakening | None) -> bool:
        return weakening is not None and weakening in self.block_on

    @property
    def blocking_controls(self) -> tuple[ControlDelta, ...]:
        """Controls weakened in a way the settings' ``block_on`` refuses."""
        if self.comparison is None:
            return ()
        return tuple(
            c for c in self.comparison.controls if any(self.blocks(w) for w in c.weakenings)
        )

    @property
    def blocking_exceptions(self) -> tuple[ExceptionDelta, ...]:
        """SoD exceptions extended while ``block_on`` refuses it."""
        if self.comparison is None:
            return ()
        return tuple(e for e in self.comparison.exceptions if self.blocks(e.weakening))

    @property
    def failed(self) -> bool:
        """The change fails CI (exit 1)."""
        return bool(self.failing_findings or self.blocking_controls or self.blocking_exceptions)

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failed else EXIT_OK

    @property
    def weakening_count(self) -> int:
        """Controls and exceptions with any weakening, blocking or not."""
        if self.comparison is None:
            return 0
        controls = sum(1 for c in self.comparison.controls if c.weakenings)
        return controls + sum(1 for e in self.comparison.exceptions if e.weakening)

    @property
    def headline(self) -> str:
        """The verdict in one sentence (no icon), e.g. "This change weakens 1 control"."""
        failing = self.failing_findings
        if self.comparison is None:
            found = (
                _counted(failing, self.threshold)
                if failing
                else f"no open finding at or above {self.threshold}"
            )
            return f"BASE could not be read, so nothing was compared; HEAD has {found}"
        harms = []
        if failing:
            harms.append(f"introduces {_counted(failing, self.threshold)}")
        if self.blocking_controls:
            harms.append(f"weakens {_plural(len(self.blocking_controls), 'control')}")
        if self.blocking_exceptions:
            extended = _plural(len(self.blocking_exceptions), "SoD exception")
            harms.append(f"extends {extended}")
        if harms:
            listed = ", ".join(harms[:-1]) + " and " + harms[-1] if len(harms) > 1 else harms[0]
            return f"This change {listed}"
        introduced = len(self.comparison.findings.introduced)
        resolved = len(self.comparison.findings.resolved)
        parts = ["No new findings"]
        if introduced:
            parts[0] = f"No new findings at or above {self.threshold} ({introduced} below)"
        if resolved:
            parts.append(f"{resolved} resolved")
        if self.weakening_count:
            parts.append(_plural(self.weakening_count, "non-blocking weakening"))
        return "; ".join(parts)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _counted(findings: tuple[Finding, ...], threshold: Severity) -> str:
    """``1 high finding`` when all share a severity, else ``3 findings at or above high``."""
    severities = {f.severity for f in findings}
    if len(severities) == 1:
        return _plural(len(findings), f"{severities.pop()} finding")
    return f"{_plural(len(findings), 'finding')} at or above {threshold}"


def _catalog_path(repo: Path, catalog: Path) -> str:
    """The catalog folder's path from the repository root (``.`` for the root itself)."""
    try:
        relative = catalog.resolve().relative_to(repo)
    except ValueError:
        raise GitError(f"{catalog}: the catalog is not inside the repository {repo}") from None
    return relative.as_posix()


def _load_base(
    stack: ExitStack, repo: Path, commit: str, path: str, day: date
) -> tuple[Catalog, Evaluation] | BaseProblem:
    """BASE loaded and evaluated, or why it could not be."""
    try:
        root = stack.enter_context(checkout(repo, commit, path))
        catalog = load_catalog(root, display_root=path, cache=parse_cache())
        return catalog, evaluate(catalog, day)
    except CatalogInvalid as exc:
        errors = tuple(d for d in exc.diagnostics if d.level == "error")
        return BaseProblem(f"BASE is not a valid catalog: {exc}", errors)
    except ControlbookError as exc:
        return BaseProblem(f"BASE could not be read: {exc}")


def review_change(
    catalog: Path,
    base: str | None = None,
    head: str | None = None,
    *,
    as_of: date | None = None,
    fail_on: Severity | None = None,
) -> ChangeReview:
    """Compare the catalog folder ``catalog`` at ``base`` with ``head``.

    ``head`` defaults to the working tree (also spelled ``.``); ``base`` to the merge
    base of HEAD with the default branch. Both sides are evaluated at ``as_of``, else
    HEAD's settings ``as_of``, else today.
    """
    repo = repo_root(catalog)
    path = _catalog_path(repo, catalog)
    head_commit = None if head in (None, WORKTREE) else resolve_commit(repo, head)
    base_commit = (
        resolve_commit(repo, base)
        if base
        else default_base(repo, head_commit or resolve_commit(repo, "HEAD"))
    )
    with ExitStack() as stack:
        head_root = (
            repo / path
            if head_commit is None
            else stack.enter_context(checkout(repo, head_commit, path))
        )
        head_catalog = load_catalog(head_root, display_root=path, cache=parse_cache())
        day = as_of or head_catalog.settings.as_of or date.today()
        head_evaluation = evaluate(head_catalog, day)
        loaded = _load_base(stack, repo, base_commit, path, day)
    if isinstance(loaded, BaseProblem):
        comparison, problem = None, loaded
    else:
        comparison, problem = compare(*loaded, head_catalog, head_evaluation), None
    settings = head_catalog.settings
    return ChangeReview(
        catalog=path,
        base=Side(base or "merge base", base_commit),
        head=Side(head or WORKTREE, head_commit),
        as_of=day,
        threshold=fail_on or settings.fail_on,
        block_on=tuple(settings.block_on),
        repo_url=settings.repo_url,
        head_evaluation=head_evaluation,
        head_warnings=tuple(head_catalog.warnings),
        comparison=comparison,
        base_problem=problem,
    )


__all__ = ["WORKTREE", "BaseProblem", "ChangeReview", "Side", "review_change"]
