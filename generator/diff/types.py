"""What a comparison of two catalogs finds: typed changes of controls, exceptions,
settings and findings (see :mod:`generator.diff`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ..diagnostics import Location
from ..evaluation.findings import Finding
from ..model import Frequency, Weakening


class ChangeKind(StrEnum):
    """What a field-level change of a control is about."""

    OWNER = "owner"
    OWNER_HISTORY = "owner-history"
    EXECUTOR = "executor"
    FREQUENCY = "frequency"
    POPULATION_ADDED = "population-added"
    POPULATION_REMOVED = "population-removed"
    POPULATION_CHANGED = "population-changed"
    APPROVAL = "approval"
    RETENTION = "retention"
    MAPPING_ADDED = "mapping-added"
    MAPPING_REMOVED = "mapping-removed"
    SOD_RULESET_ADDED = "sod-ruleset-added"
    SOD_RULESET_REMOVED = "sod-ruleset-removed"
    KEY = "key"
    NATURE = "nature"
    AUTOMATION = "automation"
    OTHER = "other"


@dataclass(frozen=True)
class FieldChange:
    """One difference in one control: the catalog key, its value before and after.

    ``before`` / ``after`` are ``None`` when there was no value (an added or removed
    item, an unset field); for ``OTHER`` changes only ``field`` is given. ``note``
    says what a reviewer should know (e.g. that the new owner is a team).
    ``location`` is where the change is written on HEAD.
    """

    kind: ChangeKind
    field: str
    before: str | None
    after: str | None
    location: Location
    weakening: Weakening | None = None
    note: str = ""


class DeltaStatus(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    CHANGED = "changed"


@dataclass(frozen=True)
class ControlDelta:
    """A control that was added, deleted or changed, with its field-level changes.

    ``location`` is on HEAD, or on BASE for a deleted control. ``owner`` and
    ``frequency`` describe the control on that side. ``uncovered`` lists the framework
    IDs a deleted control was the last to map.
    """

    id: str
    title: str
    status: DeltaStatus
    location: Location
    owner: str | None
    frequency: Frequency
    changes: tuple[FieldChange, ...] = ()
    uncovered: tuple[str, ...] = ()

    @property
    def weakenings(self) -> tuple[Weakening, ...]:
        """The kinds of weakening in this delta, without repeats, in order of appearance."""
        if self.status == DeltaStatus.DELETED:
            return (Weakening.CONTROL_REMOVED,)
        return tuple(dict.fromkeys(c.weakening for c in self.changes if c.weakening))


class ExceptionChange(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    EXTENDED = "extended"
    SHORTENED = "shortened"
    CHANGED = "changed"


@dataclass(frozen=True)
class ExceptionDelta:
    """A SoD exception added, removed, or changed (an expiry later or removed is EXTENDED)."""

    id: str
    person: str
    conflict: tuple[str, ...]
    change: ExceptionChange
    before_expiry: date | None
    after_expiry: date | None
    location: Location
    fields: tuple[str, ...] = ()

    @property
    def weakening(self) -> Weakening | None:
        return Weakening.EXCEPTION_EXTENDED if self.change == ExceptionChange.EXTENDED else None


@dataclass(frozen=True)
class SettingChange:
    """A catalog setting that changed; ``fail_on`` and ``block_on`` decide what fails CI, so
    raising the one or dropping a kind from the other is a ``policy-relaxed`` weakening."""

    field: str
    before: str | None
    after: str | None
    location: Location
    weakening: Weakening | None = None


@dataclass(frozen=True)
class FindingsDelta:
    """Open findings of HEAD that BASE did not have, and open findings of BASE that HEAD
    no longer has; a finding is identified by rule, control and subject."""

    introduced: tuple[Finding, ...]
    resolved: tuple[Finding, ...]


@dataclass(frozen=True)
class Comparison:
    """Everything that differs between BASE and HEAD, at one as-of date."""

    controls: tuple[ControlDelta, ...]
    exceptions: tuple[ExceptionDelta, ...]
    settings: tuple[SettingChange, ...]
    findings: FindingsDelta

    @property
    def has_control_changes(self) -> bool:
        return bool(self.controls or self.exceptions)
