"""The NIST Cybersecurity Framework (CSF) 2.0 core and the CSF 1.1 -> 2.0 crosswalk.

IDs, names and the hierarchy are NIST's. Descriptions are Controlbook's own one-line
summaries, not NIST's outcome statements (see ``source_url`` for the official text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import ClassVar

from ._data import Node, ReferenceDataError, load_document

CSF_FILE = "nist-csf-2.0.yaml"
CROSSWALK_FILE = "nist-csf-1.1-to-2.0.yaml"

_SUBCATEGORY_ID = re.compile(r"^(?P<category>[A-Z]{2}\.[A-Z]{2})-(?P<number>\d+)$")


class CsfLevel(StrEnum):
    """Where an ID sits in the CSF hierarchy."""

    FUNCTION = "function"
    CATEGORY = "category"
    SUBCATEGORY = "subcategory"


@dataclass(frozen=True, slots=True)
class CsfFunction:
    """A CSF 2.0 Function, e.g. ``GV`` (GOVERN)."""

    id: str
    name: str
    description: str
    level: ClassVar[CsfLevel] = CsfLevel.FUNCTION


@dataclass(frozen=True, slots=True)
class CsfCategory:
    """A CSF 2.0 Category, e.g. ``PR.AA``, with the Function it belongs to."""

    id: str
    name: str
    description: str
    function: CsfFunction
    level: ClassVar[CsfLevel] = CsfLevel.CATEGORY


@dataclass(frozen=True, slots=True)
class CsfSubcategory:
    """A CSF 2.0 Subcategory, e.g. ``PR.AA-05``, with its Category (and so its Function).

    NIST gives Subcategories no names, only IDs and outcome statements, so there is no
    ``name`` here.
    """

    id: str
    description: str
    category: CsfCategory
    level: ClassVar[CsfLevel] = CsfLevel.SUBCATEGORY

    @property
    def function(self) -> CsfFunction:
        """The Function this Subcategory belongs to."""
        return self.category.function


CsfElement = CsfFunction | CsfCategory | CsfSubcategory
"""Any addressable CSF 2.0 element."""


class Change(StrEnum):
    """What CSF 2.0 did with a CSF 1.1 element."""

    KEPT = "kept"
    """Same ID in 2.0 (subcategory numbers gain a leading zero: ``ID.AM-1`` -> ``ID.AM-01``)."""
    MOVED = "moved"
    """Withdrawn; NIST says it moved to the targets."""
    INCORPORATED = "incorporated"
    """Withdrawn; NIST says it was incorporated into the targets."""
    WITHDRAWN = "withdrawn"
    """Withdrawn with no specific successor named by NIST."""


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    """One CSF 1.1 ID and its CSF 2.0 successors."""

    csf11_id: str
    """The CSF 1.1 ID as NIST wrote it, e.g. ``PR.AC-1``."""
    level: CsfLevel
    change: Change
    targets: tuple[str, ...]
    """CSF 2.0 IDs (functions, categories or subcategories); empty when none is named."""
    note: str = ""
    """Why the mapping is unusual, when it is."""

    @property
    def withdrawn(self) -> bool:
        """True when CSF 2.0 no longer has this element under the same ID."""
        return self.change is not Change.KEPT

    @property
    def placeholder_id(self) -> str:
        """The ID in CSF 2.0 form (``PR.AC-1`` -> ``PR.AC-01``), as NIST's placeholders use."""
        match = _SUBCATEGORY_ID.match(self.csf11_id)
        if match is None:
            return self.csf11_id
        return f"{match['category']}-{int(match['number']):02d}"


@dataclass(frozen=True)
class CsfCatalog:
    """The CSF 2.0 core in NIST's order, plus the CSF 1.1 -> 2.0 crosswalk."""

    version: str
    source_url: str
    functions: tuple[CsfFunction, ...]
    categories: tuple[CsfCategory, ...]
    subcategories: tuple[CsfSubcategory, ...]
    transitions: tuple[CrosswalkEntry, ...]
    """Every CSF 1.1 function, category and subcategory, in NIST's 1.1 order."""
    crosswalk: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    """Read-only view: CSF 1.1 ID -> CSF 2.0 successor IDs."""
    _elements: Mapping[str, CsfElement] = field(init=False, repr=False, compare=False)
    _transitions: Mapping[str, CrosswalkEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        elements: dict[str, CsfElement] = {}
        for element in (*self.functions, *self.categories, *self.subcategories):
            if element.id in elements:
                raise ReferenceDataError(f"{CSF_FILE}: duplicate ID {element.id}")
            elements[element.id] = element
        transitions = {entry.csf11_id: entry for entry in self.transitions}
        if len(transitions) != len(self.transitions):
            raise ReferenceDataError(f"{CROSSWALK_FILE}: duplicate CSF 1.1 ID")
        for entry in self.transitions:
            missing = [target for target in entry.targets if target not in elements]
            if missing:
                raise ReferenceDataError(f"{CROSSWALK_FILE}: {entry.csf11_id} -> unknown {missing}")
        crosswalk = {entry.csf11_id: entry.targets for entry in self.transitions}
        object.__setattr__(self, "_elements", MappingProxyType(elements))
        object.__setattr__(self, "_transitions", MappingProxyType(transitions))
        object.__setattr__(self, "crosswalk", MappingProxyType(crosswalk))

    @property
    def ids(self) -> tuple[str, ...]:
        """Every CSF 2.0 ID: functions, then categories, then subcategories."""
        return tuple(self._elements)

    def get(self, element_id: str) -> CsfElement | None:
        """Return the function, category or subcategory with exactly this ID, or None."""
        return self._elements.get(element_id)

    def categories_of(self, function_id: str) -> tuple[CsfCategory, ...]:
        """Return the categories of one function, in NIST's order."""
        return tuple(
            category for category in self.categories if category.function.id == function_id
        )

    def subcategories_of(self, parent_id: str) -> tuple[CsfSubcategory, ...]:
        """Return the subcategories under one function or category, in NIST's order."""
        return tuple(
            sub for sub in self.subcategories if parent_id in (sub.category.id, sub.function.id)
        )

    def transition(self, csf11_id: str) -> CrosswalkEntry | None:
        """Return the crosswalk entry for a CSF 1.1 ID written as NIST wrote it, or None."""
        return self._transitions.get(csf11_id)


@cache
def load_csf() -> CsfCatalog:
    """Load the shipped CSF 2.0 catalog and crosswalk (parsed once, then cached)."""
    core = load_document(CSF_FILE)
    functions: list[CsfFunction] = []
    categories: list[CsfCategory] = []
    subcategories: list[CsfSubcategory] = []
    for function_node in core.children("functions"):
        function = CsfFunction(
            id=function_node.text("id"),
            name=function_node.text("name"),
            description=function_node.text("description"),
        )
        functions.append(function)
        for category_node in function_node.children("categories"):
            category = CsfCategory(
                id=category_node.text("id"),
                name=category_node.text("name"),
                description=category_node.text("description"),
                function=function,
            )
            categories.append(category)
            subcategories.extend(
                CsfSubcategory(
                    id=node.text("id"), description=node.text("description"), category=category
                )
                for node in category_node.children("subcategories")
            )
    return CsfCatalog(
        version=core.text("version"),
        source_url=core.text("source_url"),
        functions=tuple(functions),
        categories=tuple(categories),
        subcategories=tuple(subcategories),
        transitions=_load_transitions(),
    )


def _load_transitions() -> tuple[CrosswalkEntry, ...]:
    crosswalk = load_document(CROSSWALK_FILE)
    sections = (
        ("functions", CsfLevel.FUNCTION),
        ("categories", CsfLevel.CATEGORY),
        ("subcategories", CsfLevel.SUBCATEGORY),
    )
    return tuple(
        _transition(node, level) for key, level in sections for node in crosswalk.children(key)
    )


def _transition(node: Node, level: CsfLevel) -> CrosswalkEntry:
    try:
        change = Change(node.text("change"))
    except ValueError as error:
        raise ReferenceDataError(f"{node.where}.change: unknown value") from error
    return CrosswalkEntry(
        csf11_id=node.text("id"),
        level=level,
        change=change,
        targets=node.strings("targets"),
        note=node.optional_text("note"),
    )
