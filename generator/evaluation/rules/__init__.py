"""The rule catalog: every rule Controlbook evaluates, in one visible list.

Rule IDs are a contract (see the README's rule table); a rule is a function
decorated with :func:`~generator.evaluation.rules.base.rule` that yields gaps. Rules never
print, exit or read files: they ask the :class:`~generator.evaluation.rules.context.Context`.
"""

from __future__ import annotations

from . import (
    breakglass,
    cadence,
    evidence,
    exceptions,
    lifecycle,
    mapping,
    nhi,
    ownership,
    population,
    remediation,
    sod,
)
from .base import Rule, rule
from .context import Context

RULES: tuple[Rule, ...] = (
    *ownership.RULES,  # OWN-1 ... OWN-4
    *population.RULES,  # POP-1 ... POP-3
    *evidence.RULES,  # EVD-1 ... EVD-3
    *cadence.RULES,  # CAD-1, CAD-2
    *sod.RULES,  # SOD-1 ... SOD-3, REV-1, REV-2
    *exceptions.RULES,  # EXC-1 ... EXC-3
    *breakglass.RULES,  # BRK-1
    *remediation.RULES,  # REM-1
    *nhi.RULES,  # NHI-1 ... NHI-3
    *mapping.RULES,  # MAP-1, MAP-2
    *lifecycle.RULES,  # LVR-1, ORP-1, WVR-1
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Context", "Rule", "rule"]
