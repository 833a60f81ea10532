"""What every importer shares: rows with the place they came from, the mapping file, and
the one way a normalised extract is written (so that re-running an import, or ``check``
re-deriving it, gives the same bytes).

An importer only *reads* its format: it turns the raw export into :class:`Row` values
(each with its file:line or JSON path) and refuses anything that is not the format it
claims. Applying the mapping, the scope, the consistency checks and the CSV layout is
:func:`normalise`, the same for every format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, get_args

from pydantic import Field, ValidationError, field_validator

from ...catalog.yamlsrc import YamlError, parse_yaml
from ...diagnostics import Location, did_you_mean, format_key, invisible_characters, printable
from ...errors import InputError
from ...model import EXTRACT_COLUMNS, SYSTEM_COLUMN, AccountType
from ...model.base import Record
from ...model.positions import SourceMap

HUMAN_TYPES = frozenset({AccountType.EMPLOYEE, AccountType.PRIVILEGED, AccountType.THIRD_PARTY})
"""Account types a person is behind; one without a person is invisible to ORP-1, LVR-1
and the SoD rules, so the import says so."""


class ImportFormatError(InputError):
    """The raw export (or the mapping) is not what the importer reads, at a position:
    ``file:line:column``, and for JSON also the path of the value (``items[3].kind``)."""

    def __init__(self, location: Location, message: str, key: str = "") -> None:
        prefix = f"{printable(key)}: " if key else ""
        super().__init__(f"{location}: {prefix}{message}")
        self.location = location
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Row:
    """One account holding one entitlement, as an importer read it from the raw export."""

    account: str
    person: str
    account_type: AccountType
    entitlement: str
    where: Location
    system: str = ""
    """For an export over several systems: the row's system."""
    path: tuple[str | int, ...] = ()
    """For JSON exports: the path of the value the row comes from (``items[2].subjects[0]``)."""
    places: JsonPlaces | None = field(default=None, compare=False, repr=False)
    """Finds the line of :attr:`path`, only when an error needs it (it parses the file)."""
    group: bool = False
    """A group of people (a Kubernetes Group), never one person's: no person expected."""

    @property
    def key(self) -> str:
        return format_key(self.path)

    @property
    def location(self) -> Location:
        return self.places.at(self.path) if self.places is not None else self.where


DETAILS_HEADER = (
    "account",
    "credential",
    "active",
    "interactive",
    "last_used",
    "last_rotated",
    "expires",
    "mfa_active",
)
"""The columns of every importer's details sidecar, one row per account and credential
(or, for a sign-in log, per interactive sign-in):

* ``credential``: what the account signs in or authenticates with (``console-password``,
  ``access-key-1``, ``okta-password``, a token's ID, or a sign-in event type);
* ``active``, ``interactive``, ``mfa_active``: ``true``, ``false`` or empty (not known).
  ``interactive`` is a person's way in (a console password, an SSO session), not a key;
* ``last_used``, ``last_rotated``, ``expires``: UTC ``2026-09-20T08:15:02Z``, or the
  export's own word kept as it is (``N/A``, ``no_information``), or empty.

The NHI rules read it (NHI-2: rotation of the active credentials; NHI-3: interactive use)
from the newest imported state of the identity's system."""


@dataclass(frozen=True)
class Details:
    """A sidecar table of facts the four-column extract cannot hold (last use, rotation),
    one row per account and credential, in the columns of :data:`DETAILS_HEADER`."""

    rows: list[tuple[str, ...]]
    header: tuple[str, ...] = DETAILS_HEADER


@dataclass
class Parsed:
    """What an importer read from one raw file."""

    rows: list[Row]
    extracted_at: datetime | None = None
    """When the export was taken, if the export itself says so."""
    about: str = ""
    """What the export is about, from its content (e.g. the AWS account ID), for the source."""
    details: Details | None = None
    notes: list[str] = field(default_factory=list)
    """Things the user should know that are not errors (e.g. bindings without subjects)."""
    time_is_lower_bound: bool = False
    """``extracted_at`` is the newest event an event log holds: the export was taken then
    or later (a report says when it was generated: that moment exactly)."""


def person_pattern(pattern: str | None) -> str | None:
    """A mapping's regular expression whose first group is the person ID: it must compile
    and have a group (a pydantic validator's body, so errors are ``ValueError``)."""
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
        if compiled.groups < 1:
            raise ValueError(f"{pattern!r} needs a group: (…) around the person ID")
    return pattern


class AccountMapping(Record):
    """The mapping every importer accepts (``--mapping FILE``, YAML): who is behind each
    account, and account types the export cannot tell."""

    people: dict[str, str] = Field(
        default_factory=dict,
        description="Account (as written in the extract) -> directory person ID.",
    )
    account_types: dict[str, AccountType] = Field(
        default_factory=dict,
        description="Account -> account type, overriding what the importer infers.",
    )
    privileged_entitlements: list[str] = Field(
        default_factory=list,
        description="An employee account holding any of these entitlements is privileged.",
    )
    person_from_account: str | None = Field(
        default=None,
        description="Regular expression over the whole account name; for an account with "
        "no person (and none under people), its first group is the person, e.g. "
        "'oidc:(.+)@example\\.com'.",
    )

    @field_validator("person_from_account")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        return person_pattern(pattern)

    source: str | None = Field(
        default=None, description="Default source text of extracts made with this mapping."
    )


class Importer(ABC):
    """A format ``controlbook import`` reads. Subclasses set the class attributes and
    implement :meth:`parse`; :attr:`version` goes up whenever the same raw export would
    normalise differently (``check`` re-derives with the recorded version only)."""

    name: ClassVar[str]
    version: ClassVar[int]
    title: ClassVar[str]
    """What the export is, for messages and the default source text."""
    docs: ClassVar[tuple[str, ...]]
    """The vendor's documentation of the export format."""
    mapping_model: ClassVar[type[AccountMapping]] = AccountMapping
    mapping_required: ClassVar[bool] = False
    several_systems: ClassVar[bool] = False
    """Whether one export may cover several systems (rows name their system)."""

    @property
    def ident(self) -> str:
        return f"{self.name}/{self.version}"

    @abstractmethod
    def suffix(self, raw: bytes) -> str:
        """The file name suffix of the raw export as kept in the catalog (``.csv``)."""

    @abstractmethod
    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        """Read one raw export; raise :class:`ImportFormatError` for anything else."""


# --- reading helpers -------------------------------------------------------------------


def decode(raw: bytes, shown: str, encoding: str = "utf-8-sig") -> str:
    """The export as text; an undecodable byte is an error at its line and column."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportFormatError(
            Location(shown, line, column),
            f"byte 0x{raw[exc.start]:02x} is not {_encoding_name(encoding)} text",
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}") from None


def _encoding_name(encoding: str) -> str:
    return (
        "UTF-8"
        if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")
        else encoding
    )


def numbered(reader: Any, shown: str) -> Iterator[tuple[int, list[str]]]:
    """Each record of a ``csv.reader`` with the line it starts on; a CSV error names it."""
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFormatError(Location(shown, line, 1), f"unreadable CSV ({exc})") from None
        yield line, values
        line = reader.line_num + 1


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 date-time (``2026-09-20T08:15:02+00:00``, ``…Z``) in UTC, or None."""
    value = text.strip()
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", value
    ):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """``2026-09-20T08:15:02Z``: how extracts and the details sidecar write a time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_json(raw: bytes, shown: str) -> tuple[Any, str]:
    """A JSON document and its text; a syntax error names its line and column."""
    text = decode(raw, shown)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            Location(shown, exc.lineno, exc.colno), f"not JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise ImportFormatError(Location(shown, 1, 1), "JSON nested too deep") from None


class JsonPlaces:
    """Lines and columns of values in a JSON text, by key path, looked up only when an
    error needs one (JSON is YAML, so the catalog's own position-keeping parser finds them;
    a text it cannot read gets the JSON path alone)."""

    def __init__(self, text: str, shown: str) -> None:
        self.text = text
        self.shown = shown
        self._marks: SourceMap | None = None
        self._tried = False

    def at(self, path: Sequence[str | int]) -> Location:
        if not self._tried:
            self._tried = True
            try:
                self._marks = parse_yaml(self.text).marks
            except YamlError:
                self._marks = None
        if self._marks is None:
            return Location(self.shown)
        mark = self._marks.value(tuple(path))
        return Location(self.shown, mark.line, mark.column)

    def error(self, path: Sequence[str | int], message: str) -> ImportFormatError:
        return ImportFormatError(self.at(path), message, format_key(path) or "(document)")


# --- the mapping file ------------------------------------------------------------------


def read_mapping(path: Path | None, model: type[AccountMapping]) -> AccountMapping:
    """The ``--mapping`` file, validated (an error names its line); none: the defaults."""
    if path is None:
        return model()
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read the mapping: {exc.strerror}") from None
    text = decode(raw, shown)
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        raise ImportFormatError(
            Location(shown, exc.mark.line, exc.mark.column), exc.message
        ) from None
    if not isinstance(doc.data, dict):
        raise ImportFormatError(Location(shown, 1, 1), "a mapping file is a YAML mapping")
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems: list[tuple[bool, int, int, str]] = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                hint = did_you_mean(str(loc[-1]), _fields_at(model, loc[:-1]))
                mark, message = doc.marks.key(loc), f"unknown key '{loc[-1]}'{hint}"
            elif error["type"] == "missing":
                mark, message = doc.marks.value(loc[:-1]), f"missing required key '{loc[-1]}'"
            else:
                mark = doc.marks.value(loc)
            unknown = error["type"] == "extra_forbidden"  # often the cause of the others
            text = f"{format_key(loc) or '(file)'}: {message}"
            problems.append((not unknown, mark.line, mark.column, text))
        _, line, column, first = sorted(problems)[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ImportFormatError(Location(shown, line, column), f"{first}{more}") from None


def _fields_at(model: type[Record], path: Sequence[str | int]) -> list[str]:
    """Field names of the (nested) model that reads the mapping at ``path``."""
    current: Any = model
    for part in path:
        if not isinstance(part, str):
            continue
        field_info = getattr(current, "model_fields", {}).get(part)
        if field_info is None:
            return []
        found = (field_info.annotation, *get_args(field_info.annotation))
        current = next((a for a in found if isinstance(a, type) and issubclass(a, Record)), None)
    return list(getattr(current, "model_fields", {}))


def mapping_json(mapping: AccountMapping) -> bytes:
    """The mapping as kept beside the raw export: canonical JSON (sorted keys), so the
    same mapping always gives the same bytes and ``check`` can apply it again."""
    data = mapping.model_dump(mode="json", exclude_defaults=True)
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# --- normalising ------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """The extract as the catalog reads it, and what the user should hear about it."""

    csv: bytes
    records: int
    accounts: int
    left_out: int
    """Rows outside the scope."""
    without_person: tuple[str, ...]
    """Accounts of a human type with no person behind them."""
    details: bytes | None = None


def _where(row: Row) -> str:
    return f"{row.location}" + (f" ({row.key})" if row.key else "")


def apply_mapping(rows: Iterable[Row], mapping: AccountMapping) -> list[Row]:
    """People and account types from the mapping (``people``, then ``person_from_account``
    for an account with no person); privileged entitlements make an employee account
    privileged (every row of it: an account has one type)."""
    people = {k.strip().lower(): v for k, v in mapping.people.items()}
    types = {k.strip().lower(): v for k, v in mapping.account_types.items()}
    privileged_rights = {e.strip().lower() for e in mapping.privileged_entitlements}
    rows = list(rows)
    privileged = {
        (r.system, r.account.strip().lower())
        for r in rows
        if r.entitlement.strip().lower() in privileged_rights
    }
    pattern = re.compile(mapping.person_from_account) if mapping.person_from_account else None
    out = []
    for row in rows:
        key = row.account.strip().lower()
        person = people.get(key, row.person)
        if not person.strip() and pattern is not None and not row.group:
            found = pattern.fullmatch(row.account.strip())
            person = (found.group(1) or "") if found else person
        kind = types.get(key, row.account_type)
        if key not in types and kind is AccountType.EMPLOYEE and (row.system, key) in privileged:
            kind = AccountType.PRIVILEGED
        out.append(replace(row, person=person, account_type=kind))
    return out


def normalise(
    rows: Sequence[Row],
    *,
    systems: Sequence[str],
    scope: Iterable[AccountType] = (),
    details: Details | None = None,
) -> Normalised:
    """The extract CSV: header, then one sorted, de-duplicated row per account and
    entitlement (a system column first when the extract covers several systems).

    Refuses what the catalog's reader would refuse (invisible characters in a value) and
    what the rules could not judge (one account with two people or two types)."""
    several = len(systems) > 1
    wanted = frozenset(scope) or frozenset(AccountType)
    seen: dict[tuple[str, str], Row] = {}
    kept: set[tuple[str, str, str, str, str]] = set()
    groups: set[str] = set()
    left_out = 0
    for row in rows:
        values = {
            "account": row.account,
            "person": row.person,
            "entitlement": row.entitlement,
            "system": row.system,
        }
        for column, value in values.items():
            if hidden := invisible_characters(value):
                raise ImportFormatError(
                    row.location,
                    f"{column} {value.strip()!a} holds {', '.join(hidden)}; the catalog "
                    "refuses such IDs",
                    row.key,
                )
        if not row.account.strip():
            raise ImportFormatError(row.location, "no account name", row.key)
        system = row.system.strip()
        if several and system not in systems:
            raise ImportFormatError(
                row.location,
                f"system {system!r} is not one of --system {', '.join(systems)}"
                if system
                else "no system: an export over several systems needs a system column "
                "(columns.system in the mapping) with a value in every row",
                row.key,
            )
        if not several and system and system != systems[0]:
            raise ImportFormatError(
                row.location, f"system {system!r} is not --system {systems[0]}", row.key
            )
        ident = (system if several else "", row.account.strip().lower())
        first = seen.setdefault(ident, row)
        if first.person.strip().lower() != row.person.strip().lower():
            raise ImportFormatError(
                row.location,
                f"account {row.account.strip()!r} has person {row.person.strip()!r} here "
                f"and {first.person.strip()!r} at {_where(first)}; one account, one person",
                row.key,
            )
        if first.account_type is not row.account_type:
            raise ImportFormatError(
                row.location,
                f"account {row.account.strip()!r} is {row.account_type} here and "
                f"{first.account_type} at {_where(first)}; one account, one type (set it "
                "under account_types: in the mapping)",
                row.key,
            )
        if row.account_type not in wanted:
            left_out += 1
            continue
        kept.add(
            (
                ident[0],
                row.account.strip(),
                row.person.strip(),
                str(row.account_type),
                row.entitlement.strip(),
            )
        )
        if row.group:
            groups.add(row.account.strip())
    ordered = sorted(kept, key=lambda r: (r[0], r[1].lower(), r[1], r[4], r[2], r[3]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((SYSTEM_COLUMN, *EXTRACT_COLUMNS) if several else EXTRACT_COLUMNS)
    for system, account, person, account_type, entitlement in ordered:
        values = (account, person, account_type, entitlement)
        writer.writerow((system, *values) if several else values)
    accounts = {(r[0], r[1].lower()) for r in ordered}
    human = {str(t) for t in HUMAN_TYPES}
    without = sorted(
        {r[1] for r in ordered if r[3] in human and not r[2] and r[1] not in groups},
        key=str.lower,
    )
    kept_accounts = {r[1].lower() for r in ordered}
    return Normalised(
        out.getvalue().encode(),
        len(ordered),
        len(accounts),
        left_out,
        tuple(without),
        _details_csv(details, kept_accounts) if details else None,
    )


def _details_csv(details: Details, accounts: set[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(details.header)
    rows = {r for r in details.rows if r[0].strip().lower() in accounts}
    for row in sorted(rows, key=lambda r: (r[0].lower(), *r)):
        writer.writerow(row)
    return out.getvalue().encode()


def merge(parts: Sequence[Parsed]) -> Parsed:
    """Several raw files of one export (pages): all their rows; the earliest time any of
    them carries (the extract shows the state no later than that), or for the pages of an
    event log the newest event of any page (the log was taken no earlier)."""
    if len(parts) == 1:
        return parts[0]
    times = [p.extracted_at for p in parts if p.extracted_at is not None]
    log = bool(parts) and all(p.time_is_lower_bound for p in parts)
    details = [p.details for p in parts if p.details is not None]
    return Parsed(
        [row for part in parts for row in part.rows],
        (max(times) if log else min(times)) if times else None,
        ", ".join(dict.fromkeys(p.about for p in parts if p.about)),
        Details([r for d in details for r in d.rows], details[0].header) if details else None,
        [note for part in parts for note in part.notes],
        time_is_lower_bound=log,
    )
