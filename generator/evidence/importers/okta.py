"""``okta-users`` and ``okta-app-users``: who holds an Okta account, and who is assigned to
an application behind Okta single sign-on.

``okta-users`` reads the JSON array that the Users API returns, ``GET /api/v1/users``
(https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers),
one file per page (the API pages with the ``Link: <…>; rel="next"`` header; several files
are pages of one export). One row per user who *holds access*:

* every status but ``DEPROVISIONED``: ``ACTIVE``, ``RECOVERY``, ``PASSWORD_EXPIRED`` and
  ``LOCKED_OUT`` users can sign in (or will after a reset or an unlock); ``SUSPENDED``
  users cannot sign in but an administrator can unsuspend them with their assignments
  intact, and their accounts in the applications stay; ``STAGED`` and ``PROVISIONED``
  users exist with their assignments and are one activation away. A ``DEPROVISIONED``
  (deactivated) user cannot sign in and has lost its assignments: no row, counted;
* account: ``profile.login``; entitlement: ``okta-user`` (holding an Okta account; the
  status is a fact of its own, in the details, so that a review decision on an account
  survives a status change and a suspended user is still "present" for REM-1);
* account_type: ``profile.userType`` when it names one (``Service``, ``API``, ``Bot``,
  ``System``, ``Machine``, ``Integration`` … -> service; ``Contractor`` -> employee;
  ``Partner``, ``Vendor``, ``External`` -> third-party; one of the five types as written);
  else employee; the mapping's ``account_types`` overrides;
* person: the mapping's ``people`` or ``person_from_account``.

Details: one row per user, credential ``okta-password`` (or ``okta-federation``,
``okta-social`` … for users without an Okta password), interactive, ``last_used`` =
``lastLogin``, ``last_rotated`` = ``passwordChanged``, ``active`` true for the statuses that
can sign in. The export carries no time of its own: ``--extracted-at`` is required.

``okta-app-users`` reads the Application Users API, ``GET /api/v1/apps/{appId}/users``
(https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/#tag/ApplicationUsers/operation/listApplicationUsers):
the app's assignments. ``--system`` is the application's system. One row per assignment
that holds access (every status but ``INACTIVE``, ``DEPROVISIONED``, ``REVOKED``,
``UNASSIGNED``) and entitlement:

* account: ``credentials.userName`` (the account in the application); without one (SSO
  apps that keep no credentials) the Okta login from ``_embedded.user`` (``?expand=user``);
* entitlement: each value of the profile attributes the mapping's
  ``entitlement_attributes`` names (default ``role``, ``roles``, ``groups``), else
  ``app-assignment``;
* ``scope: GROUP`` assignments (granted through an Okta group) are counted in a note:
  removing one means removing the user from the group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from ...diagnostics import Location
from ...model import AccountType
from .core import (
    AccountMapping,
    Details,
    Importer,
    JsonPlaces,
    Parsed,
    Row,
    load_json,
    parse_timestamp,
    utc_text,
)

USERS_DOCS = (
    "https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers",
    "https://developer.okta.com/docs/api/#pagination",
)
APP_USERS_DOCS = (
    "https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/#tag/ApplicationUsers/operation/listApplicationUsers",
    "https://developer.okta.com/docs/api/#pagination",
)

USER_STATUSES = frozenset(
    {
        "STAGED",
        "PROVISIONED",
        "ACTIVE",
        "RECOVERY",
        "PASSWORD_EXPIRED",
        "LOCKED_OUT",
        "SUSPENDED",
        "DEPROVISIONED",
    }
)
SIGN_IN_STATUSES = frozenset({"ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"})
"""Statuses whose user can sign in (after a reset or an unlock): the password is active."""

APP_USER_STATUSES = frozenset(
    {
        "ACTIVE",
        "APPROVED",
        "DEPROVISIONED",
        "IMPLICIT",
        "IMPORTED",
        "INACTIVE",
        "MATCHED",
        "PENDING",
        "PROVISIONED",
        "REVOKED",
        "STAGED",
        "SUSPENDED",
        "UNASSIGNED",
    }
)
APP_USER_GONE = frozenset({"INACTIVE", "DEPROVISIONED", "REVOKED", "UNASSIGNED"})
"""Assignment statuses that hold no access any more (left out, counted)."""

DEFAULT_ENTITLEMENT_ATTRIBUTES = ("role", "roles", "groups")

_USER_TYPES: tuple[tuple[re.Pattern[str], AccountType], ...] = (
    (re.compile(r"service|api|bot|system|machine|integration|non.?human|nhi"), AccountType.SERVICE),
    (re.compile(r"break.?glass|emergency"), AccountType.BREAK_GLASS),
    (re.compile(r"partner|vendor|external|third.?party|supplier"), AccountType.THIRD_PARTY),
    (re.compile(r"privileged|admin"), AccountType.PRIVILEGED),
)


def account_type_of(user_type: Any) -> AccountType:
    """What ``profile.userType`` says about the account (employee when it says nothing)."""
    if not isinstance(user_type, str) or not user_type.strip():
        return AccountType.EMPLOYEE
    text = user_type.strip().lower()
    for pattern, kind in _USER_TYPES:
        if pattern.search(text):
            return kind
    return AccountType.EMPLOYEE


# --- shared reading helpers ------------------------------------------------------------


JsonPath = tuple[str | int, ...]


def read_page(raw: bytes, shown: str, what: str) -> tuple[list[Any], JsonPlaces]:
    """One page of an Okta list API: a JSON array (an Okta error object is named)."""
    data, text = load_json(raw, shown)
    places = JsonPlaces(text, shown)
    if isinstance(data, dict) and "errorCode" in data:
        summary = data.get("errorSummary") or ""
        raise places.error(
            ("errorCode",),
            f"an Okta error response ({data['errorCode']}: {summary}), not a page of {what}",
        )
    if not isinstance(data, list):
        raise places.error(
            (), f"expected the JSON array of {what} the API returns (one page), not an object"
        )
    return data, places


def text_at(places: JsonPlaces, path: JsonPath, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise places.error(path, f"{what} must be a non-empty string (got {value!r})")
    return value.strip()


def time_at(places: JsonPlaces, path: JsonPath, value: Any, what: str) -> str:
    """An ISO 8601 time as the sidecar writes it; ``null`` (never) is empty."""
    if value is None:
        return ""
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise places.error(path, f"{what} is {value!r}; Okta writes an ISO 8601 time or null")
    return utc_text(moment)


def other_format(item: dict[str, Any]) -> str:
    """A hint when an object is of another Okta list API ("" when it is none of them)."""
    if "eventType" in item and "published" in item:
        return " (a System Log event: import it with okta-system-log)"
    if "scope" in item:
        return " (an application assignment: import it with okta-app-users)"
    profile = item.get("profile")
    if isinstance(profile, dict) and "login" in profile:
        return " (an Okta user: import it with okta-users)"
    return ""


# --- okta-users -------------------------------------------------------------------------


class OktaUsers(Importer):
    name = "okta-users"
    version = 1
    title = "Okta users (GET /api/v1/users)"
    docs = USERS_DOCS

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        items, places = read_page(raw, shown, "users")
        rows: list[Row] = []
        details: list[tuple[str, ...]] = []
        gone: list[str] = []
        for index, item in enumerate(items):
            path: JsonPath = (index,)
            found = _user(item, path, places)
            if found is None:
                continue
            login, status, kind, detail = found
            if status == "DEPROVISIONED":
                gone.append(login)
                continue
            rows.append(
                Row(login, "", kind, "okta-user", Location(shown), path=path, places=places)
            )
            details.append(detail)
        notes = []
        if gone:
            notes.append(
                f"{len(gone)} DEPROVISIONED user(s) hold no access and are left out: "
                + ", ".join(gone[:5])
                + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
            )
        if not items:
            notes.append(f"{shown} is an empty page (the last page of a paginated export)")
        return Parsed(rows, details=Details(details), notes=notes)


def _user(
    item: Any, path: JsonPath, places: JsonPlaces
) -> tuple[str, str, AccountType, tuple[str, ...]] | None:
    if not isinstance(item, dict):
        raise places.error(path, "expected an Okta user object")
    hint = other_format(item)
    if hint and "okta-users" not in hint:
        raise places.error(path, f"not an Okta user{hint}")
    if "id" not in item or "status" not in item:
        raise places.error(path, "not an Okta user: it has no id and status")
    text_at(places, (*path, "id"), item["id"], "id")
    status = item["status"]
    if status not in USER_STATUSES:
        raise places.error(
            (*path, "status"),
            f"status {status!r} is not an Okta user status ({', '.join(sorted(USER_STATUSES))})",
        )
    profile = item.get("profile")
    if not isinstance(profile, dict):
        raise places.error((*path, "profile"), f"a user has a profile{other_format(item)}")
    login = text_at(places, (*path, "profile", "login"), profile.get("login"), "profile.login")
    last_login = time_at(places, (*path, "lastLogin"), item.get("lastLogin"), "lastLogin")
    changed = time_at(
        places, (*path, "passwordChanged"), item.get("passwordChanged"), "passwordChanged"
    )
    kind = account_type_of(profile.get("userType"))
    detail = (
        login,
        _credential(item.get("credentials")),
        "true" if status in SIGN_IN_STATUSES else "false",
        "true",
        last_login,
        changed,
        "",
        "",
    )
    return login, status, kind, detail


def _credential(credentials: Any) -> str:
    """``okta-password``, or the provider of a user who signs in elsewhere."""
    if not isinstance(credentials, dict) or "password" in credentials:
        return "okta-password"
    provider = credentials.get("provider")
    kind = provider.get("type") if isinstance(provider, dict) else None
    if isinstance(kind, str) and kind.strip() and kind.strip().upper() != "OKTA":
        return f"okta-{kind.strip().lower()}"
    return "okta-password"


# --- okta-app-users -----------------------------------------------------------------------


class OktaAppMapping(AccountMapping):
    """The mapping of ``okta-app-users``: the common keys, and where the app's profile
    keeps entitlements."""

    entitlement_attributes: list[str] | None = Field(
        default=None,
        description="Attributes of an assignment's app profile whose values are "
        "entitlements (a string or a list of strings), e.g. [role, salesforceGroups]. "
        "Default: role, roles, groups.",
    )


class OktaAppUsers(Importer):
    name = "okta-app-users"
    version = 1
    title = "Okta application assignments (GET /api/v1/apps/{appId}/users)"
    docs = APP_USERS_DOCS
    mapping_model = OktaAppMapping

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        items, places = read_page(raw, shown, "application users")
        attributes = getattr(mapping, "entitlement_attributes", None)
        names = tuple(attributes) if attributes else DEFAULT_ENTITLEMENT_ATTRIBUTES
        rows: list[Row] = []
        gone: list[str] = []
        by_group: list[str] = []
        apps: dict[str, JsonPath] = {}
        for index, item in enumerate(items):
            path: JsonPath = (index,)
            account, status, scope, kind, entitlements = _assignment(item, path, places, names)
            app = _app_id(item)
            if app:
                first = apps.setdefault(app, path)
                if len(apps) > 1:
                    raise places.error(
                        (*path, "_links", "app", "href"),
                        f"an assignment of app {app}, and of app {next(iter(apps))} at "
                        f"{places.at(first)}: one export is one application",
                    )
            if status in APP_USER_GONE:
                gone.append(f"{account} ({status})")
                continue
            if scope == "GROUP":
                by_group.append(account)
            for entitlement in entitlements:
                rows.append(
                    Row(account, "", kind, entitlement, Location(shown), path=path, places=places)
                )
        notes = []
        if by_group:
            notes.append(
                f"{len(by_group)} assignment(s) come from an Okta group (scope GROUP; remove "
                "the user from the group to remove them): "
                + ", ".join(by_group[:5])
                + (f" and {len(by_group) - 5} more" if len(by_group) > 5 else "")
            )
        if gone:
            notes.append(
                f"{len(gone)} assignment(s) hold no access and are left out: "
                + ", ".join(gone[:5])
                + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
            )
        if not items:
            notes.append(f"{shown} is an empty page (the last page of a paginated export)")
        about = f"app {next(iter(apps))}" if apps else ""
        return Parsed(rows, about=about, notes=notes)


def _app_id(item: dict[str, Any]) -> str:
    links = item.get("_links")
    app = links.get("app") if isinstance(links, dict) else None
    href = app.get("href") if isinstance(app, dict) else None
    found = re.search(r"/api/v1/apps/([^/?#]+)", href) if isinstance(href, str) else None
    return found.group(1) if found else ""


def _assignment(
    item: Any, path: JsonPath, places: JsonPlaces, names: Sequence[str]
) -> tuple[str, str, str, AccountType, list[str]]:
    if not isinstance(item, dict):
        raise places.error(path, "expected an application user object")
    if "scope" not in item or "status" not in item:
        hint = other_format(item) or ": it has no scope and status"
        raise places.error(path, f"not an application assignment{hint}")
    scope = item["scope"]
    if scope not in ("USER", "GROUP"):
        raise places.error((*path, "scope"), f"scope {scope!r} is not USER or GROUP")
    status = item["status"]
    if status not in APP_USER_STATUSES:
        raise places.error(
            (*path, "status"), f"status {status!r} is not an application user status"
        )
    embedded = item.get("_embedded")
    user = embedded.get("user") if isinstance(embedded, dict) else None
    user_profile = user.get("profile") if isinstance(user, dict) else None
    credentials = item.get("credentials")
    if isinstance(credentials, dict) and credentials.get("userName") is not None:
        account = text_at(
            places, (*path, "credentials", "userName"), credentials["userName"], "userName"
        )
    elif isinstance(user_profile, dict) and "login" in user_profile:
        account = text_at(
            places,
            (*path, "_embedded", "user", "profile", "login"),
            user_profile["login"],
            "the user's login",
        )
    else:
        raise places.error(
            (*path, "credentials") if "credentials" in item else path,
            "no credentials.userName (the account in the app) and no _embedded.user "
            "(export with ?expand=user for apps that keep no credentials)",
        )
    kind = account_type_of(user_profile.get("userType") if isinstance(user_profile, dict) else None)
    profile = item.get("profile")
    if profile is not None and not isinstance(profile, dict):
        raise places.error((*path, "profile"), "the app profile must be an object")
    entitlements: list[str] = []
    for name in names:
        value = (profile or {}).get(name)
        values = value if isinstance(value, list) else [value]
        for position, entry in enumerate(values):
            if entry is None or entry == "":
                continue
            where = (
                (*path, "profile", name, position)
                if isinstance(value, list)
                else (
                    *path,
                    "profile",
                    name,
                )
            )
            if not isinstance(entry, str):
                raise places.error(where, f"an entitlement is a string (got {entry!r})")
            entitlements.append(entry.strip())
    return account, status, scope, kind, entitlements or ["app-assignment"]
