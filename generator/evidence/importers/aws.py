"""``aws-credential-report``: the IAM credential report of one AWS account.

Read as documented in the IAM User Guide, "Generate credential reports for your AWS
account" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html)
and the API reference of GetCredentialReport
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html).

Two forms are accepted: the CSV itself (console download, or ``Content`` decoded), and the
JSON that ``aws iam get-credential-report`` prints (``Content`` base64, ``ReportFormat``
``text/csv``, ``GeneratedTime``), which also says when the report was generated.

Mapping to the extract (one row per IAM user and *active credential*; the report lists
credentials, not permissions):

* account: the IAM user name; the root user keeps the report's name ``<root_account>``;
* entitlement: ``console-password``, ``access-key-1``, ``access-key-2``,
  ``signing-certificate-1``, ``signing-certificate-2`` for each active credential, ``root``
  for the root user; a user with no active credential has one row with no entitlement;
* account_type: the root user is ``break-glass``; a user with a console password is
  ``employee``; one with only access keys or certificates is ``service``; one with
  nothing active is ``employee``. The mapping's ``account_types`` overrides any of these;
* person: the mapping's ``people`` (IAM user -> directory ID); else empty.

Last use and rotation of each credential (and MFA) go to the details sidecar.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from datetime import datetime

from ...diagnostics import Location
from ...model import AccountType
from .core import (
    AccountMapping,
    Details,
    Importer,
    ImportFormatError,
    JsonPlaces,
    Parsed,
    Row,
    decode,
    load_json,
    numbered,
    parse_timestamp,
    utc_text,
)

COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
"""The documented columns, in order. Columns AWS adds later are read past."""

ROOT = "<root_account>"
_NO_TIME = frozenset({"n/a", "no_information", "not_supported", ""})
"""No date: never used / no such credential (N/A), not tracked (no_information, before
IAM started tracking in October 2014), or the root user's password (not_supported)."""
_BOOLEANS = {"true": True, "false": False}
_BOOLEAN_COLUMNS = tuple(c for c in COLUMNS if c.endswith(("_active", "_enabled")))
_TIME_COLUMNS = tuple(
    c
    for c in COLUMNS
    if c.endswith(("_time", "_last_used", "_last_changed", "_next_rotation", "_rotated", "_date"))
)
_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(root|user/.+)$")


class AwsCredentialReport(Importer):
    name = "aws-credential-report"
    version = 2
    title = "AWS IAM credential report"
    docs = (
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html",
    )

    def suffix(self, raw: bytes) -> str:
        return ".json" if raw.lstrip()[:1] == b"{" else ".csv"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        if raw.lstrip()[:1] == b"{":
            text, generated, where = _from_cli_json(raw, shown)
        else:
            text, generated, where = decode(raw, shown), None, shown
        return _parse_csv(text, where, generated)


def _from_cli_json(raw: bytes, shown: str) -> tuple[str, datetime, str]:
    """The report inside ``aws iam get-credential-report`` output, and its time."""
    data, text = load_json(raw, shown)
    places = JsonPlaces(text, shown)
    if not isinstance(data, dict):
        raise places.error((), "expected the object GetCredentialReport returns")
    for key in ("Content", "ReportFormat", "GeneratedTime"):
        if not isinstance(data.get(key), str):
            raise places.error(
                (key,) if key in data else (),
                f"{key} (a string) is missing; is this the output of "
                "'aws iam get-credential-report'?",
            )
    if data["ReportFormat"] != "text/csv":
        raise places.error(("ReportFormat",), f"format {data['ReportFormat']!r} is not text/csv")
    generated = parse_timestamp(data["GeneratedTime"])
    if generated is None:
        raise places.error(("GeneratedTime",), f"{data['GeneratedTime']!r} is not an ISO 8601 time")
    try:
        content = base64.b64decode(data["Content"], validate=True)
    except (binascii.Error, ValueError):
        raise places.error(("Content",), "not base64 (the report is base64-encoded)") from None
    where = f"{shown} (Content)"
    return decode(content, where), generated, where


def _parse_csv(text: str, shown: str, generated: datetime | None) -> Parsed:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFormatError(Location(shown, 1, 1), f"unreadable CSV ({exc})") from None
    if not header:
        raise ImportFormatError(Location(shown, 1, 1), "empty: no credential report header")
    columns = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise ImportFormatError(
            Location(shown, 1, 1),
            f"not an IAM credential report: the header lacks {', '.join(missing[:4])}"
            + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            + f" (it starts '{','.join(columns[:4])}')",
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ImportFormatError(
            Location(shown, 1, 1), f"column {duplicated[0]!r} appears twice in the header"
        )
    index = {c: columns.index(c) for c in COLUMNS}
    rows: list[Row] = []
    details: list[tuple[str, ...]] = []
    account_id = ""
    for line, values in numbered(reader, shown):
        if not values or values == [""]:
            continue
        where = Location(shown, line, 1)
        if len(values) != len(columns):
            raise ImportFormatError(where, f"expected {len(columns)} fields, got {len(values)}")
        get = {c: values[i].strip() for c, i in index.items()}
        _check_values(get, where)
        user, arn = get["user"], get["arn"]
        found = _ARN.match(arn)
        if not user or found is None:
            raise ImportFormatError(where, f"user {user!r} with ARN {arn!r} is not an IAM user")
        if (user == ROOT) != (found.group(2) == "root"):
            raise ImportFormatError(where, f"user {user!r} does not match its ARN {arn!r}")
        if account_id and found.group(1) != account_id:
            raise ImportFormatError(
                where,
                f"account {found.group(1)} differs from {account_id} above: one report "
                "is one AWS account",
            )
        account_id = found.group(1)
        rows.extend(_rows(get, where))
        details.extend(_details(get))
    if not rows:
        raise ImportFormatError(Location(shown, 1, 1), "the report lists no user")
    return Parsed(
        rows,
        generated,
        f"AWS account {account_id}",
        Details(details),
    )


def _check_values(get: dict[str, str], where: Location) -> None:
    for column in _BOOLEAN_COLUMNS:
        value = get[column].lower()
        if value not in _BOOLEANS and value != "not_supported":
            raise ImportFormatError(
                where, f"{column} is {get[column]!r}; the report writes true or false"
            )
    for column in _TIME_COLUMNS:
        value = get[column]
        if value.lower() not in _NO_TIME and parse_timestamp(value) is None:
            raise ImportFormatError(
                where,
                f"{column} is {value!r}; the report writes an ISO 8601 time, N/A, "
                "no_information or not_supported",
            )


def _active(get: dict[str, str], column: str) -> bool:
    return get[column].lower() == "true"


def _credentials(get: dict[str, str]) -> list[str]:
    held = ["root"] if get["user"] == ROOT else []
    if get["user"] != ROOT and _active(get, "password_enabled"):
        held.append("console-password")
    for n in (1, 2):
        if _active(get, f"access_key_{n}_active"):
            held.append(f"access-key-{n}")
    for n in (1, 2):
        if _active(get, f"cert_{n}_active"):
            held.append(f"signing-certificate-{n}")
    return held


def _rows(get: dict[str, str], where: Location) -> list[Row]:
    user = get["user"]
    held = _credentials(get)
    if user == ROOT:
        kind = AccountType.BREAK_GLASS
    elif _active(get, "password_enabled") or not held:
        kind = AccountType.EMPLOYEE
    else:
        kind = AccountType.SERVICE
    return [Row(user, "", kind, entitlement, where) for entitlement in held or [""]]


def _time(value: str) -> str:
    moment = parse_timestamp(value)
    return utc_text(moment) if moment else value


def _details(get: dict[str, str]) -> list[tuple[str, ...]]:
    """One row per credential the user has (active or not), in the common columns: the
    console password (and the root user) is interactive, keys and certificates are not.
    The report tells no expiry; ``password_next_rotation`` is a policy date, not one."""
    user, mfa = get["user"], get["mfa_active"].lower()
    out = []
    if user == ROOT or get["password_enabled"].lower() == "true":
        active = "true" if user == ROOT else get["password_enabled"].lower()
        out.append(
            (
                user,
                "root" if user == ROOT else "console-password",
                active,
                "true",
                _time(get["password_last_used"]),
                _time(get["password_last_changed"]),
                "",
                mfa,
            )
        )
    for n in (1, 2):
        rotated = get[f"access_key_{n}_last_rotated"]
        if _active(get, f"access_key_{n}_active") or rotated.lower() not in _NO_TIME:
            out.append(
                (
                    user,
                    f"access-key-{n}",
                    get[f"access_key_{n}_active"].lower(),
                    "false",
                    _time(get[f"access_key_{n}_last_used_date"]),
                    _time(rotated),
                    "",
                    mfa,
                )
            )
    for n in (1, 2):
        rotated = get[f"cert_{n}_last_rotated"]
        if _active(get, f"cert_{n}_active") or rotated.lower() not in _NO_TIME:
            out.append(
                (
                    user,
                    f"signing-certificate-{n}",
                    get[f"cert_{n}_active"].lower(),
                    "false",
                    "",
                    _time(rotated),
                    "",
                    mfa,
                )
            )
    return out
