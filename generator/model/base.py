"""Building blocks shared by every catalog record: IDs, references, dates, locations."""

from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from pathlib import PurePosixPath
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ..diagnostics import Location
from .positions import Mark, Path_, SourceMap

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=128)]
"""An identifier: letters, digits and ``. _ : @ / + -``, starting with a letter or digit."""


class Ref:
    """Marks a string field as a reference to another record of ``kind``.

    Validation walks every field carrying this marker and reports IDs that do not
    exist, with a "did you mean". Kinds: person, system, control, ruleset.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"Ref({self.kind!r})"


class Descriptive:
    """Marks a field that no rule reads: prose for people (a title, an objective, a
    description, a comment). Neither its text nor whether it is given changes a finding,
    so caches of evaluation results leave these fields out of their keys
    (``tests/test_trend_cache.py`` evaluates the example catalogs with every such field
    scrambled and expects the same findings)."""

    def __repr__(self) -> str:
        return "Descriptive()"


Prose = Annotated[str, Descriptive()]
"""Free text for people to read, which no rule reads (see :class:`Descriptive`)."""


PersonRef = Annotated[Id, Ref("person")]
SystemRef = Annotated[Id, Ref("system")]
ControlRef = Annotated[Id, Ref("control")]
RulesetRef = Annotated[Id, Ref("ruleset")]


EARLIEST = date(1970, 1, 1)
LATEST = date(2099, 12, 31)
"""Dates outside these are refused. Python's dates end in year 9999, so ``9999-12-31``
plus a few days crashes; the build stamps its output with the as-of date, and the
32-bit timestamps of gzip and ZIP end in 2106; and a period starting in year 1 makes
thousands of review periods to evaluate. No control evidence lies outside this range."""

MAX_DAYS = 3660
"""Upper bound of every day count (due days, SLAs, rotation): ten years. A larger value
is a typo, and added to a date it can leave the range Python's dates can hold."""

MAX_PERIOD_DAYS = 3653
"""Longest assessed or reviewed period: ten years (with their leap days), both ends
included. Rules walk a period review cycle by review cycle; centuries would take minutes."""


def _in_range(value: date) -> date:
    """Refuse a date (or the date of a timestamp) outside :data:`EARLIEST` .. :data:`LATEST`."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"{day.isoformat()} is outside the supported dates "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )
    return value


Day = Annotated[date, AfterValidator(_in_range)]
"""A calendar date (``2026-03-31``) between :data:`EARLIEST` and :data:`LATEST`."""


def _aware(value: datetime) -> datetime:
    """Timestamps without a zone are taken as UTC, so comparisons never fail."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_in_range), AfterValidator(_aware)]
"""A date and time (``2026-04-01T06:00:00Z``); without a zone it is read as UTC. Its
date lies between :data:`EARLIEST` and :data:`LATEST`."""

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A lowercase hex sha256 digest (64 characters)."""


def _inside_catalog(value: str) -> str:
    """Refuse paths that could leave the catalog folder (absolute, ``..``, drive letters)."""
    posix = PurePosixPath(value.replace("\\", "/"))
    if posix.is_absolute() or ":" in value or ".." in posix.parts:
        raise ValueError(f"path {value!r} must be relative to the catalog folder, without '..'")
    return posix.as_posix()


RelPath = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_inside_catalog)
]
"""A file path relative to the catalog folder (for example ``extracts/erp-2026-03-31.csv``)."""


class Severity(StrEnum):
    """How bad a finding is; ordered from the most to the least severe."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for critical ... 3 for low: smaller is worse."""
        return list(Severity).index(self)

    def at_least(self, threshold: "Severity") -> bool:
        return self.rank <= threshold.rank


class Record(BaseModel):
    """Base of every catalog record: strict keys, and knows where it was written."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    # Where the record was written is kept in pydantic's slot for private state, set
    # once by the loader: declared private attributes would cost an initialiser call
    # per record, and a catalog has hundreds of thousands of review items.

    def attach_source(self, file: str, path: Path_, marks: SourceMap) -> None:
        object.__setattr__(self, "__pydantic_private__", _Source(file, path, marks))

    @property
    def _source(self) -> "_Source | None":
        found = self.__pydantic_private__
        return found if isinstance(found, _Source) else None

    @property
    def source_file(self) -> str:
        source = self._source
        return source.file if source is not None else ""

    def loc(self, *subpath: str | int) -> Location:
        """Where this record (or one of its fields, or a list element) was written."""
        source = self._source
        if source is None:
            return Location("<unknown>")
        mark: Mark = source.marks.value((*source.path, *subpath))
        return Location(source.file, mark.line, mark.column)


class _Source(dict[str, Any]):
    """File, key path and positions of a loaded record. An (empty) dict, as pydantic
    expects of private state when it copies or compares models: where a record was
    written never makes two records differ."""

    __slots__ = ("file", "marks", "path")

    def __init__(self, file: str, path: Path_, marks: SourceMap) -> None:
        self.file, self.path, self.marks = file, path, marks


class Period(Record):
    """A closed date range, both ends included."""

    start: Day = Field(description="First day of the period.")
    end: Day = Field(description="Last day of the period (included); at most ten years on.")

    @field_validator("end")
    @classmethod
    def _at_most_ten_years(cls, end: date, info: ValidationInfo) -> date:
        """A longer period is a typo (``0001-01-01``) that would cost minutes of evaluation.
        An end before the start is reported by the cross-file checks, with both dates."""
        start = info.data.get("start")
        if isinstance(start, date) and (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise ValueError(
                f"the period {start.isoformat()} to {end.isoformat()} spans "
                f"{(end - start).days + 1:,} days; a period is at most ten years"
            )
        return end

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def ref_kind(annotation: Any, metadata: list[Any] | None = None) -> str | None:
    """The :class:`Ref` kind of a field annotation (also inside ``list[...]``, ``X | None``)."""
    for meta in metadata or ():
        if isinstance(meta, Ref):
            return meta.kind
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Ref):
            return meta.kind
    origin = get_origin(annotation)
    if origin is not None and origin is not Annotated:
        for arg in get_args(annotation):
            found = ref_kind(arg)
            if found:
                return found
    elif origin is Annotated:
        return ref_kind(get_args(annotation)[0])
    return None


def _holds_record(annotation: Any) -> bool:
    """Whether a value of this annotation can be (or contain) a :class:`Record`."""
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return True
    return any(_holds_record(arg) for arg in get_args(annotation))


@cache
def nested_fields(cls: type[Record]) -> tuple[str, ...]:
    """The fields of ``cls`` that can hold records (a record, or a list of them)."""
    return tuple(n for n, f in cls.model_fields.items() if _holds_record(f.annotation))


@cache
def reference_fields(cls: type[Record]) -> tuple[tuple[str, str], ...]:
    """``(field, kind)`` of every field of ``cls`` that refers to another record."""
    found = ((n, ref_kind(f.annotation, f.metadata)) for n, f in cls.model_fields.items())
    return tuple((name, kind) for name, kind in found if kind)


def _marked_descriptive(annotation: Any, metadata: list[Any] | None = None) -> bool:
    """Whether a field annotation carries :class:`Descriptive` (also in ``X | None``)."""
    if any(
        isinstance(m, Descriptive)
        for m in (*(metadata or ()), *getattr(annotation, "__metadata__", ()))
    ):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _marked_descriptive(get_args(annotation)[0])
    return origin is not None and any(_marked_descriptive(arg) for arg in get_args(annotation))


@cache
def descriptive_fields(cls: type[Record]) -> frozenset[str]:
    """The fields of ``cls`` marked :class:`Descriptive` (read by no rule)."""
    return frozenset(
        n for n, f in cls.model_fields.items() if _marked_descriptive(f.annotation, f.metadata)
    )
