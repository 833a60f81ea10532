"""``github-members`` and ``github-pats``: who is in a GitHub organisation, and the
fine-grained personal access tokens that reach it.

``github-members`` reads the GraphQL API's ``organization.membersWithRole`` connection,
whose edges carry the member's role and 2FA state
(https://docs.github.com/en/graphql/reference/objects#organizationmemberedge,
https://docs.github.com/en/graphql/reference/enums#organizationmemberrole), as
``gh api graphql --paginate --slurp`` prints it (a list of pages) or one page per file.
The organisation's People export (Export → CSV/JSON,
https://docs.github.com/en/organizations/managing-membership-in-your-organization/exporting-member-information-for-your-organization)
carries the same plus last activity, but GitHub does not publish its column names, so it
is not read. The REST ``GET /orgs/{org}/members`` list has neither role nor 2FA.

* account: the login; entitlement ``org:admin`` (an owner) or ``org:member``;
* account_type: owners ``privileged``, members ``employee`` (``account_types`` overrides);
* person: the mapping's ``people`` (login -> directory ID) or ``person_from_account``;
* details: one interactive row per member (``github-sign-in``; ``mfa_active`` from
  ``hasTwoFactorEnabled``, empty when the viewer may not see it; no last activity).

``github-pats`` reads ``GET /orgs/{org}/personal-access-tokens`` (REST, "List
fine-grained personal access tokens with access to organization resources",
https://docs.github.com/en/rest/orgs/personal-access-tokens#list-fine-grained-personal-access-tokens-with-access-to-organization-resources):
a JSON list of grants, one page per file or ``gh api --paginate --slurp`` (a list of
pages). A token is a non-human credential a person owns:

* account: ``pat:<id>`` (the ``pat_id`` the API revokes by), type ``service``;
* person: the owner's login through the mapping's ``people`` / ``person_from_account``
  (so a leaver's token is a leaver's access);
* entitlements: each permission as ``<scope>:<permission>:<level>``
  (``repository:contents:write``, ``organization:members:read``) and the repository
  selection as ``repositories:<all|subset|none>``;
* an expired token (``token_expired``) grants nothing and is left out (counted);
* details: ``active`` true, not interactive, ``last_used`` = ``token_last_used_at``
  (``never`` when null), ``last_rotated`` = ``access_granted_at``, ``expires`` =
  ``token_expires_at`` (``never`` when null).

Neither export says when it was taken: ``--extracted-at`` is required.
"""

from __future__ import annotations

import re
from typing import Any

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

Path = tuple[str | int, ...]

_ROLES = {"ADMIN": "admin", "MEMBER": "member"}
_MEMBERS_QUERY = "gh api graphql --paginate --slurp (organization.membersWithRole)"
_PATS_CALL = "GET /orgs/{org}/personal-access-tokens"
_SELECTIONS = {"all", "subset", "none"}
_SCOPES = ("organization", "repository", "other")
_LEVELS = {"read", "write", "admin"}


def _pages(data: Any, places: JsonPlaces, is_page: Any) -> list[tuple[Path, Any]]:
    """One page, or the list of pages ``--slurp`` writes."""
    if isinstance(data, list) and data and all(is_page(p) for p in data):
        return [((i,), page) for i, page in enumerate(data)]
    return [((), data)]


class GitHubMembers(Importer):
    name = "github-members"
    version = 1
    title = "GitHub organisation members"
    docs = (
        "https://docs.github.com/en/graphql/reference/objects#organizationmemberedge",
        "https://docs.github.com/en/graphql/reference/enums#organizationmemberrole",
    )

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        data, text = load_json(raw, shown)
        places = JsonPlaces(text, shown)
        rows: list[Row] = []
        details: list[tuple[str, ...]] = []
        organisations: set[str] = set()
        pages = _pages(data, places, lambda p: isinstance(p, dict) and "data" in p)
        for path, page in pages:
            edges, login = _member_edges(page, path, places)
            if login:
                organisations.add(login)
            for index, edge in enumerate(edges):
                row, detail = _member(edge, (*path, *_EDGES, index), places)
                rows.append(row)
                details.append(detail)
        about = ", ".join(f"organisation {o}" for o in sorted(organisations))
        return Parsed(rows, about=about or _MEMBERS_QUERY, details=Details(details))


_EDGES: Path = ("data", "organization", "membersWithRole", "edges")


def _member_edges(page: Any, path: Path, places: JsonPlaces) -> tuple[list[Any], str]:
    if not isinstance(page, dict):
        raise places.error(path, 'expected a GraphQL response object ({"data": …})')
    if page.get("errors"):
        raise places.error(
            (*path, "errors"), "the GraphQL response reports errors; the export is incomplete"
        )
    where: Path = path
    node: Any = page
    for key in _EDGES:
        if not isinstance(node, dict) or key not in node:
            raise places.error(
                where,
                f"no {key}: expected data.organization.membersWithRole.edges ({_MEMBERS_QUERY})",
            )
        node, where = node[key], (*where, key)
    if not isinstance(node, list):
        raise places.error(where, "edges must be a list")
    org = page["data"]["organization"]
    return node, str(org.get("login") or "") if isinstance(org, dict) else ""


def _text(places: JsonPlaces, path: Path, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise places.error(path, f"{what} must be a non-empty string (got {value!r})")
    return value.strip()


def _member(edge: Any, path: Path, places: JsonPlaces) -> tuple[Row, tuple[str, ...]]:
    if not isinstance(edge, dict):
        raise places.error(path, "an edge is an object with role, hasTwoFactorEnabled and node")
    role = edge.get("role")
    if role not in _ROLES:
        raise places.error((*path, "role"), f"role {role!r} is not ADMIN or MEMBER")
    node = edge.get("node")
    if not isinstance(node, dict):
        raise places.error((*path, "node"), "node (the member, a User) is required")
    login = _text(places, (*path, "node", "login"), node.get("login"), "node.login")
    two_factor = edge.get("hasTwoFactorEnabled")
    if two_factor is not None and not isinstance(two_factor, bool):
        raise places.error(
            (*path, "hasTwoFactorEnabled"), f"hasTwoFactorEnabled is {two_factor!r}, not a boolean"
        )
    kind = AccountType.PRIVILEGED if role == "ADMIN" else AccountType.EMPLOYEE
    row = Row(
        login,
        "",
        kind,
        f"org:{_ROLES[role]}",
        Location(places.shown),
        path=(*path, "node", "login"),
        places=places,
    )
    mfa = "" if two_factor is None else str(two_factor).lower()
    return row, (login, "github-sign-in", "true", "true", "", "", "", mfa)


class GitHubPats(Importer):
    name = "github-pats"
    version = 1
    title = "GitHub fine-grained personal access tokens"
    docs = (
        "https://docs.github.com/en/rest/orgs/personal-access-tokens#list-fine-grained-personal-access-tokens-with-access-to-organization-resources",
    )

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        data, text = load_json(raw, shown)
        places = JsonPlaces(text, shown)
        owners = _Owners(mapping)
        rows: list[Row] = []
        details: list[tuple[str, ...]] = []
        expired: list[str] = []
        pages = _pages(data, places, lambda p: isinstance(p, list))
        empty = 0
        for path, page in pages:
            if not isinstance(page, list):
                raise places.error(
                    path, f"expected the JSON list {_PATS_CALL} returns (fine-grained tokens)"
                )
            empty += not page
            for index, grant in enumerate(page):
                found = _pat(grant, (*path, index), places, owners)
                if found is None:
                    expired.append(f"pat:{grant['id']}")
                    continue
                rows.extend(found[0])
                details.append(found[1])
        notes = []
        if expired:
            notes.append(
                f"{len(expired)} expired token(s) grant nothing and are left out: "
                + ", ".join(expired[:5])
            )
        if empty:
            notes.append(f"{empty} empty page(s) (the end of the list)")
        return Parsed(rows, about=_PATS_CALL, details=Details(details), notes=notes)


class _Owners:
    """A token owner's login -> directory person, by the mapping's people and pattern."""

    def __init__(self, mapping: AccountMapping) -> None:
        self.people = {k.strip().lower(): v for k, v in mapping.people.items()}
        self.pattern = (
            re.compile(mapping.person_from_account) if mapping.person_from_account else None
        )

    def person(self, login: str) -> str:
        person = self.people.get(login.lower(), "")
        if not person and self.pattern is not None:
            found = self.pattern.fullmatch(login)
            person = (found.group(1) or "") if found else ""
        return person


def _time(places: JsonPlaces, path: Path, value: Any, what: str, *, optional: bool) -> str:
    if value is None and optional:
        return "never"
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise places.error(path, f"{what} is {value!r}, not an ISO 8601 time")
    return utc_text(moment)


def _pat(
    grant: Any, path: Path, places: JsonPlaces, owners: _Owners
) -> tuple[list[Row], tuple[str, ...]] | None:
    if not isinstance(grant, dict):
        raise places.error(path, "a token grant is an object (id, owner, permissions, …)")
    if "id" not in grant and "owner" not in grant:
        raise places.error(path, f"not a token grant (id, owner, permissions) of {_PATS_CALL}")
    ident = grant.get("id")
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise places.error((*path, "id"), f"id is {ident!r}, not an integer")
    expired = grant.get("token_expired")
    if not isinstance(expired, bool):
        raise places.error((*path, "token_expired"), f"token_expired is {expired!r}, not a boolean")
    if expired:
        return None
    owner = grant.get("owner")
    if not isinstance(owner, dict):
        raise places.error((*path, "owner"), "owner (the user who created the token) is required")
    login = _text(places, (*path, "owner", "login"), owner.get("login"), "owner.login")
    selection = grant.get("repository_selection")
    if selection not in _SELECTIONS:
        raise places.error(
            (*path, "repository_selection"),
            f"repository_selection {selection!r} is not all, subset or none",
        )
    granted = _time(
        places, (*path, "access_granted_at"), grant.get("access_granted_at"),
        "access_granted_at", optional=False,
    )  # fmt: skip
    expires = _time(
        places, (*path, "token_expires_at"), grant.get("token_expires_at"),
        "token_expires_at", optional=True,
    )  # fmt: skip
    last_used = _time(
        places, (*path, "token_last_used_at"), grant.get("token_last_used_at"),
        "token_last_used_at", optional=True,
    )  # fmt: skip
    account = f"pat:{ident}"
    person = owners.person(login)
    entitlements = [f"repositories:{selection}", *_permissions(grant, path, places)]
    rows = [
        Row(
            account,
            person,
            AccountType.SERVICE,
            entitlement,
            Location(places.shown),
            path=(*path, "id"),
            places=places,
        )
        for entitlement in entitlements
    ]
    name = grant.get("token_name")
    credential = name.strip() if isinstance(name, str) and name.strip() else "fine-grained-pat"
    return rows, (account, credential, "true", "false", last_used, granted, expires, "")


def _permissions(grant: dict[str, Any], path: Path, places: JsonPlaces) -> list[str]:
    permissions = grant.get("permissions")
    where = (*path, "permissions")
    if not isinstance(permissions, dict):
        raise places.error(where, "permissions (organization, repository, other) is required")
    out = []
    for scope, granted in permissions.items():
        if scope not in _SCOPES:
            raise places.error(
                (*where, scope), f"{scope!r} is not organization, repository or other"
            )
        if not isinstance(granted, dict):
            raise places.error((*where, scope), f"{scope} must map permissions to levels")
        for permission, level in granted.items():
            if level not in _LEVELS:
                raise places.error(
                    (*where, scope, permission),
                    f"level {level!r} is not read, write or admin",
                )
            out.append(f"{scope}:{permission}:{level}")
    return out
