"""The loaded catalog: every record by ID, sorted, with the files they came from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..diagnostics import Diagnostic
    from .base import Record
    from .controls import Control
    from .people import Person
    from .registers import BreakGlassEvent, NonHumanIdentity, SodException, SodRuleset, Waiver
    from .reviews import Review
    from .settings import Settings
    from .systems import System


COLLECTIONS = (
    "people", "systems", "controls", "reviews", "rulesets",
    "exceptions", "break_glass", "nhis", "waivers",
)  # fmt: skip
"""The record collections of :class:`Catalog`, by attribute (a test holds it to them)."""


@dataclass
class Catalog:
    """A validated catalog. Collections are dicts keyed by ID, in ID order."""

    root: Path
    display_root: str
    settings: Settings
    people: dict[str, Person] = field(default_factory=dict)
    systems: dict[str, System] = field(default_factory=dict)
    controls: dict[str, Control] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    rulesets: dict[str, SodRuleset] = field(default_factory=dict)
    exceptions: dict[str, SodException] = field(default_factory=dict)
    break_glass: dict[str, BreakGlassEvent] = field(default_factory=dict)
    nhis: dict[str, NonHumanIdentity] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    """Catalog-relative paths of the YAML files read, sorted."""
    warnings: list[Diagnostic] = field(default_factory=list)

    def records(self) -> Iterator[Record]:
        """The settings, then every record of every collection (not the nested ones)."""
        yield self.settings
        for part in COLLECTIONS:
            yield from getattr(self, part).values()

    def reviews_of(self, control_id: str) -> list[Review]:
        """Reviews of a control, oldest period first."""
        return list(self._reviews_by_control.get(control_id, ()))

    @cached_property
    def _reviews_by_control(self) -> dict[str, list[Review]]:
        by_control: dict[str, list[Review]] = {}
        for review in self.reviews.values():
            by_control.setdefault(review.control, []).append(review)
        for reviews in by_control.values():
            reviews.sort(key=lambda r: (r.period.start, r.period.end, r.id))
        return by_control

    def owner_on(self, control_id: str, day: date) -> Person | None:
        """Who owned control ``control_id`` on ``day`` (None when nobody is on record)."""
        entry = self.controls[control_id].owner_on(day)
        return self.people.get(entry.person) if entry else None

    def display_path(self, rel: str) -> str:
        """How a catalog-relative path is shown to the user (as they named the catalog)."""
        return f"{self.display_root}/{rel}" if self.display_root not in ("", ".") else rel

    def resolve(self, rel: str) -> Path | None:
        """The file a catalog-relative path names, or None if it would leave the catalog.

        Symlinks are resolved first, so a link pointing outside is refused too. A loop of
        links resolves to a path inside that is no file (``os.path.realpath`` stops there,
        where ``Path.resolve`` raises on Python 3.11): the evidence is reported missing.
        """
        root = Path(os.path.realpath(self.root))
        target = Path(os.path.realpath(root / rel))
        return target if target.is_relative_to(root) else None
