"""Review a change to a catalog: read BASE and HEAD from git, evaluate both at one as-of
date, compare them, and decide whether the change fails.

HEAD must be a valid catalog (else :class:`~generator.errors.CatalogInvalid`, exit 2).
The catalog path must be a real folder in both revisions and in the working tree: a
symbolic link, or a folder that exists on one side only, would let a change swap the
folder BASE is read from and be judged on its own (:class:`CatalogPathError`, exit 2),
unless the caller asks for a first-time review (``allow_new_catalog``). When BASE exists
but is invalid, the review says so and holds no comparison: HEAD's findings are then
judged on their own, never presented as introduced.

The gate's policy (``fail_on``, ``block_on``) is never taken from the change it judges:
it comes from the command line, else from BASE's settings; HEAD relaxing it is itself a
blocking weakening (``policy-relaxed``). Without a BASE catalog, the built-in defaults
apply, which HEAD's settings can tighten but not relax.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from ..catalog.gitsource import (
    GitError,
    PathKind,
    checkout,
    default_base,
    path_kind,
    repo_root,
    resolve_commit,
)
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..diagnostics import Diagnostic
from ..errors import EXIT_FINDINGS, EXIT_OK, CatalogInvalid, ControlbookError, InputError
from ..evaluation.evaluate import INTERNAL_ERROR, Evaluation, evaluate
from ..evaluation.findings import Finding
from ..model import Catalog, Settings, Severity, Weakening
from ..model.settings import DEFAULT_BLOCK_ON
from . import Comparison, ControlDelta, ExceptionDelta, SettingChange, compare

WORKTREE = "."
"""How the working tree is named in place of a HEAD revision."""

DEFAULT_THRESHOLD = Severity.HIGH
"""The threshold when neither the command line nor BASE gives one (the settings' default)."""


class CatalogPathError(InputError):
    """The catalog path is a symbolic link, not a folder, or missing on one side."""


class PolicySource(StrEnum):
    """Where a part of the review policy comes from (``policy`` in the JSON report)."""

    COMMAND_LINE = "command-line"
    BASE = "base"
    DEFAULTS = "defaults"

    @property
    def text(self) -> str:
        return {
            PolicySource.COMMAND_LINE: "the command line",
            PolicySource.BASE: "BASE's settings",
            PolicySource.DEFAULTS: "the defaults, tightened by HEAD's settings (no BASE catalog)",
        }[self]


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
    ``catalog`` is the catalog's path in the repository; ``threshold`` and ``block_on``
    come from where ``threshold_from`` and ``block_on_from`` say (never from HEAD alone),
    ``repo_url`` from HEAD (it only builds links).
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
    threshold_from: PolicySource = PolicySource.BASE
    block_on_from: PolicySource = PolicySource.BASE

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
    def blocking_settings(self) -> tuple[SettingChange, ...]:
        """Settings changes that relax the review policy while ``block_on`` refuses it."""
        if self.comparison is None:
            return ()
        return tuple(s for s in self.comparison.settings if self.blocks(s.weakening))

    @property
    def failed(self) -> bool:
        """The change fails CI (exit 1)."""
        return bool(
            self.failing_findings
            or self.blocking_controls
            or self.blocking_exceptions
            or self.blocking_settings
        )

    @property
    def policy_text(self) -> str:
        """Where the policy comes from, in words (one source, or one per part)."""
        if self.threshold_from == self.block_on_from:
            return f"policy from {self.threshold_from.text}"
        return (
            f"threshold from {self.threshold_from.text}, weakenings from {self.block_on_from.text}"
        )

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failed else EXIT_OK

    @property
    def weakening_count(self) -> int:
        """Controls and exceptions with any weakening, blocking or not."""
        if self.comparison is None:
            return 0
        controls = sum(1 for c in self.comparison.controls if c.weakenings)
        settings = sum(1 for s in self.comparison.settings if s.weakening)
        return controls + settings + sum(1 for e in self.comparison.exceptions if e.weakening)

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
        if self.blocking_settings:
            fields = " and ".join(s.field for s in self.blocking_settings)
            harms.append(f"relaxes the review policy ({fields})")
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


def _symlink_error(where: str, side: str) -> CatalogPathError:
    return CatalogPathError(
        f"{where} is a symbolic link {side}: the catalog must be a real folder on both "
        "sides, so that BASE and HEAD are read from the same place (name the folder it "
        "points to instead, and compare that)"
    )


def _catalog_path(repo: Path, catalog: Path) -> str:
    """The catalog folder's path from the repository root (``.`` for the root itself).

    The path is taken as written, not resolved: no component of it inside the repository
    may be a symbolic link in the working tree (components outside it may).
    """
    absolute = Path(os.path.abspath(catalog))
    inside: list[str] = []
    folder = absolute
    while folder.resolve() != repo:
        if folder == folder.parent:
            raise GitError(f"{catalog}: the catalog is not inside the repository {repo}")
        inside.insert(0, folder.name)
        folder = folder.parent
    for depth in range(1, len(inside) + 1):
        if folder.joinpath(*inside[:depth]).is_symlink():
            raise _symlink_error("/".join(inside[:depth]), "in the working tree")
    return "/".join(inside) or "."


def _exists_at(repo: Path, side: Side, path: str) -> bool:
    """Whether the catalog folder exists at a revision; a link or a file there is an error."""
    assert side.commit is not None
    kind, where = path_kind(repo, side.commit, path)
    if kind == PathKind.SYMLINK:
        raise _symlink_error(where, f"at {side.label}")
    if kind not in (PathKind.FOLDER, PathKind.MISSING):
        raise CatalogPathError(f"{where} is a {kind} at {side.label}, not a catalog folder")
    return kind == PathKind.FOLDER


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


def _stricter(a: Severity, b: Severity) -> Severity:
    """The threshold that fails more findings."""
    return a if a.rank >= b.rank else b


def _policy(
    fail_on: Severity | None,
    block_on: tuple[Weakening, ...] | None,
    base: Settings | None,
    head: Settings,
) -> tuple[Severity, PolicySource, tuple[Weakening, ...], PolicySource]:
    """The review policy: the command line, else BASE's settings, else the defaults
    tightened by HEAD's. Taken from BASE, ``block_on`` always holds ``policy-relaxed``: a
    catalog cannot list its way out of having its policy changes reviewed."""
    if base is not None:
        threshold, threshold_from = base.fail_on, PolicySource.BASE
        kinds, kinds_from = [*base.block_on, Weakening.POLICY_RELAXED], PolicySource.BASE
    else:
        threshold = _stricter(DEFAULT_THRESHOLD, head.fail_on)
        kinds = [*DEFAULT_BLOCK_ON, *head.block_on, Weakening.POLICY_RELAXED]
        threshold_from = kinds_from = PolicySource.DEFAULTS
    if fail_on is not None:
        threshold, threshold_from = fail_on, PolicySource.COMMAND_LINE
    if block_on is not None:
        kinds, kinds_from = list(block_on), PolicySource.COMMAND_LINE
    ordered = tuple(w for w in Weakening if w in kinds)
    return threshold, threshold_from, ordered, kinds_from


def review_change(
    catalog: Path,
    base: str | None = None,
    head: str | None = None,
    *,
    as_of: date | None = None,
    fail_on: Severity | None = None,
    block_on: tuple[Weakening, ...] | None = None,
    allow_new_catalog: bool = False,
) -> ChangeReview:
    """Compare the catalog folder ``catalog`` at ``base`` with ``head``.

    ``head`` defaults to the working tree (also spelled ``.``); ``base`` to the merge
    base of HEAD with the default branch. Both sides are evaluated at ``as_of``, else
    HEAD's settings ``as_of``, else today. ``fail_on`` and ``block_on`` pin the policy
    (else BASE's settings). ``allow_new_catalog`` accepts a catalog folder that does not
    exist at BASE: HEAD is then judged on its own.
    """
    if Path(os.path.abspath(catalog)).is_symlink():
        raise _symlink_error(str(catalog), "in the working tree")
    repo = repo_root(catalog)
    path = _catalog_path(repo, catalog)
    head_commit = None if head in (None, WORKTREE) else resolve_commit(repo, head)
    base_commit = (
        resolve_commit(repo, base)
        if base
        else default_base(repo, head_commit or resolve_commit(repo, "HEAD"))
    )
    base_side = Side(base or "merge base", base_commit)
    head_side = Side(head or WORKTREE, head_commit)
    if head_commit is not None and not _exists_at(repo, head_side, path):
        raise CatalogPathError(f"{path}: no catalog folder at HEAD {head_side.label}")
    base_exists = _exists_at(repo, base_side, path)
    if not base_exists and not allow_new_catalog:
        raise CatalogPathError(
            f"{path}: no catalog folder at BASE {base_side.label}, so nothing can be "
            "compared (was it moved or renamed? compare the same folder on both sides). "
            "For the first review of a new catalog, pass --allow-new-catalog: HEAD is "
            "then judged on its own"
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
        loaded: tuple[Catalog, Evaluation] | BaseProblem = (
            _load_base(stack, repo, base_commit, path, day)
            if base_exists
            else BaseProblem(
                f"First review of a new catalog: {path} does not exist at BASE "
                "(--allow-new-catalog)."
            )
        )
    if isinstance(loaded, BaseProblem):
        comparison, problem, base_settings = None, loaded, None
    else:
        comparison, problem = compare(*loaded, head_catalog, head_evaluation), None
        base_settings = loaded[0].settings
    settings = head_catalog.settings
    threshold, threshold_from, kinds, kinds_from = _policy(
        fail_on, block_on, base_settings, settings
    )
    return ChangeReview(
        catalog=path,
        base=base_side,
        head=head_side,
        as_of=day,
        threshold=threshold,
        block_on=kinds,
        repo_url=settings.repo_url,
        head_evaluation=head_evaluation,
        head_warnings=tuple(head_catalog.warnings),
        comparison=comparison,
        base_problem=problem,
        threshold_from=threshold_from,
        block_on_from=kinds_from,
    )


__all__ = [
    "WORKTREE",
    "BaseProblem",
    "CatalogPathError",
    "ChangeReview",
    "PolicySource",
    "Side",
    "review_change",
]
