"""What a rule is: a stable ID, a name, a family, a default severity and a check."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...model import Severity
from ..findings import Gap, NotAssessed

if TYPE_CHECKING:
    from .context import Context

Check = Callable[["Context"], Iterable[Gap | NotAssessed]]
"""A rule's check: the gaps it finds, and what it could not judge (with why)."""


@dataclass(frozen=True)
class Rule:
    """A rule of the catalog. Its docstring says why auditors care and how to fix it."""

    id: str
    name: str
    family: str
    severity: Severity
    hint: str
    check: Check

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        """The first paragraph of the docstring."""
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")


def rule(
    rule_id: str, name: str, family: str, severity: Severity, hint: str
) -> Callable[[Check], Rule]:
    """Declare a rule: ``@rule("OWN-1", "...", "ownership", Severity.HIGH, hint=...)``."""

    def wrap(check: Check) -> Rule:
        return Rule(rule_id, name, family, severity, hint, check)

    return wrap
