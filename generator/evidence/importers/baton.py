"""``baton-csv``: the CSV that ConductorOne's Baton CLI exports from a connector's sync.

``baton-<connector> -f sync.c1z`` syncs one system (Okta, GitHub, AWS, …) into a c1z
file; ``baton export csv -f sync.c1z --out sync.csv`` writes it as CSV. The layout is the
Baton CLI's own (https://github.com/ConductorOne/baton, ``cmd/baton/export.go`` and
``cmd/baton/csv.go``; the CLI: https://www.conductorone.com/docs/baton/): twelve columns
``Type, Last Name, First Name, User ID, User Status, Email Address, Entitlement Display
Name, Entitlement, Resource Type, Resource Name, Entitlement Description, Entitlement
Slug``, and three kinds of row: ``Identity`` (a user and its status), ``Entitlement``
(what can be granted) and ``Grant`` (a user holding an entitlement; written without the
user's status).

One row per grant:

* account: the grant's ``User ID`` (the connector's ``user_id`` profile field), else its
  ``Email Address``;
* entitlement: ``<Resource Type>:<Resource Name>:<Entitlement Slug>`` (``group:Finance
  AP:member``), or the ``Entitlement`` ID when the name or slug is empty;
* person: the mapping's ``people``; else ``person_from_email``'s first group over the
  e-mail address, else the whole address (so a vendor address is ORP-1, as it should be);
* account_type: ``employee`` (``account_types`` and ``privileged_entitlements`` refine);
* system: one sync is one connector, which may hold several catalog systems (an Okta
  sync holds Okta's own groups and roles and the apps it signs in to): the mapping's
  ``systems`` maps ``<Resource Type>:<Resource Name>`` or a whole ``<Resource Type>`` to
  a system ID; without ``systems`` every grant is the one ``--system``'s.

A grant of a user whose ``Identity`` row says ``Disabled`` or ``Deleted`` is left out
(counted): the user cannot sign in. The export carries no time: ``--extracted-at``.
"""

from __future__ import annotations

import csv
import io
import re

from pydantic import Field, field_validator

from ...diagnostics import Location
from ...model import AccountType
from .core import (
    AccountMapping,
    Importer,
    ImportFormatError,
    Parsed,
    Row,
    decode,
    numbered,
    person_pattern,
)

COLUMNS = (
    "Type",
    "Last Name",
    "First Name",
    "User ID",
    "User Status",
    "Email Address",
    "Entitlement Display Name",
    "Entitlement",
    "Resource Type",
    "Resource Name",
    "Entitlement Description",
    "Entitlement Slug",
)
"""The header ``baton export csv`` writes, in order."""

_TYPES = ("Identity", "Entitlement", "Grant")
_STATUSES = ("Enabled", "Disabled", "Deleted", "Unknown")
_GONE = ("Disabled", "Deleted")


class BatonMapping(AccountMapping):
    """The mapping of the ``baton-csv`` importer (``--mapping``, optional)."""

    systems: dict[str, str] = Field(
        default_factory=dict,
        description="'<Resource Type>:<Resource Name>' or '<Resource Type>' -> catalog "
        "system ID, for a sync that holds several systems.",
    )
    person_from_email: str | None = Field(
        default=None,
        description="Regular expression over the e-mail address; its first group is the "
        "person, e.g. '(.+)@nwcomponents\\.example'. An address it does not match is kept.",
    )

    @field_validator("person_from_email")
    @classmethod
    def _compiles_email(cls, pattern: str | None) -> str | None:
        return person_pattern(pattern)


class BatonCsv(Importer):
    name = "baton-csv"
    version = 1
    title = "Baton CSV export"
    docs = (
        "https://github.com/ConductorOne/baton/blob/main/cmd/baton/csv.go",
        "https://www.conductorone.com/docs/baton/",
    )
    mapping_model = BatonMapping
    several_systems = True

    def suffix(self, raw: bytes) -> str:
        return ".csv"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        assert isinstance(mapping, BatonMapping)
        reader = csv.reader(io.StringIO(decode(raw, shown), newline=""))
        records = list(numbered(reader, shown))
        if not records:
            raise ImportFormatError(Location(shown, 1, 1), "empty: no Baton CSV header")
        header_line, header = records[0]
        index = _header([h.strip() for h in header], Location(shown, header_line, 1))
        status: dict[str, str] = {}
        grants: list[tuple[Location, dict[str, str]]] = []
        for line, values in records[1:]:
            if not values or all(not v.strip() for v in values):
                continue
            where = Location(shown, line, 1)
            if len(values) != len(header):
                raise ImportFormatError(where, f"expected {len(header)} fields, got {len(values)}")
            get = {c: values[i].strip() for c, i in index.items()}
            kind = get["Type"]
            if kind not in _TYPES:
                raise ImportFormatError(
                    where, f"Type {kind!r} is not Identity, Entitlement or Grant"
                )
            if kind == "Identity":
                if get["User Status"] not in _STATUSES:
                    raise ImportFormatError(
                        where,
                        f"User Status {get['User Status']!r} is not " + ", ".join(_STATUSES),
                    )
                for key in (get["User ID"], get["Email Address"]):
                    if key:
                        status[key.lower()] = get["User Status"]
            elif kind == "Grant":
                grants.append((where, get))
        rows: list[Row] = []
        gone: set[str] = set()
        email_pattern = re.compile(mapping.person_from_email) if mapping.person_from_email else None
        for where, get in grants:
            account = get["User ID"] or get["Email Address"]
            if not account:
                raise ImportFormatError(where, "a Grant row without User ID or Email Address")
            state = status.get(get["User ID"].lower()) or status.get(get["Email Address"].lower())
            if state in _GONE:
                gone.add(account)
                continue
            rows.append(
                Row(
                    account,
                    _person(get["Email Address"], email_pattern),
                    AccountType.EMPLOYEE,
                    _entitlement(get, where),
                    where,
                    system=_system(get, mapping, where),
                )
            )
        notes = []
        if gone:
            names = sorted(gone, key=str.lower)
            notes.append(
                f"grants of {len(names)} disabled or deleted user(s) left out: "
                + ", ".join(names[:5])
            )
        if not grants:
            notes.append("the export has no Grant rows")
        return Parsed(rows, about="baton export csv", notes=notes)


def _header(columns: list[str], where: Location) -> dict[str, int]:
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise ImportFormatError(
            where,
            f"not a Baton CSV export: the header lacks {', '.join(missing[:4])}"
            + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            + f" (it starts '{','.join(columns[:4])}'; see baton export csv)",
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ImportFormatError(where, f"column {duplicated[0]!r} appears twice in the header")
    return {c: columns.index(c) for c in COLUMNS}


def _person(email: str, pattern: re.Pattern[str] | None) -> str:
    if email and pattern is not None:
        found = pattern.fullmatch(email)
        if found:
            return found.group(1) or ""
    return email


def _entitlement(get: dict[str, str], where: Location) -> str:
    kind, name, slug = get["Resource Type"], get["Resource Name"], get["Entitlement Slug"]
    if kind and name and slug:
        return f"{kind}:{name}:{slug}"
    if not get["Entitlement"]:
        raise ImportFormatError(
            where, "a Grant row without Entitlement (nor Resource Type, Name and Slug)"
        )
    return get["Entitlement"]


def _system(get: dict[str, str], mapping: BatonMapping, where: Location) -> str:
    if not mapping.systems:
        return ""
    kind, name = get["Resource Type"], get["Resource Name"]
    for key in (f"{kind}:{name}", kind):
        if key in mapping.systems:
            return mapping.systems[key]
    raise ImportFormatError(
        where,
        f"resource {kind}:{name} is not under systems: in the mapping (add '{kind}:{name}' "
        f"or '{kind}')",
    )
