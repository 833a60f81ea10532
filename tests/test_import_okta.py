"""``controlbook import`` of Okta exports: users, an app's assignments, the System Log.

Each fixture (``tests/data/imports/okta/``, see its SOURCE.md for the Okta pages it
follows) is imported into a copy of the example catalog with an ``okta`` system added;
the tests check the extract and details by content, that the catalog still validates,
the findings the import adds, that a second import changes no byte, and that a file
that is not the format it claims is refused with its position, writing nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import Result

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.model import ExtractKind
from tests.conftest import EXAMPLE
from tests.test_import import DATA, assert_valid, findings, run, snapshot

OKTA = DATA / "okta"
PAGES = [OKTA / "users-page1.json", OKTA / "users-page2.json", OKTA / "users-page3.json"]

OKTA_SYSTEM = """
  # Okta workforce identity (added by the Okta import tests).
  - id: okta
    name: Okta (nwcomponents.okta.com)
    sox_in_scope: false
    owner: f.haddad
    administrators: [h.larsen]
    account_types: [employee, service]
"""

OKTA_NHI = """
  # The Workday SCIM login in Okta (added by the Okta import tests).
  - id: NHI-OKTA-01
    system: okta
    account: svc-scim-workday@nwcomponents.example
    type: service-account
    owner: f.haddad
    purpose: Provisions Workday joiners and leavers into Okta (SCIM).
    last_rotated: 2026-08-01
"""


@pytest.fixture(scope="module")
def baseline() -> set[tuple[str, str]]:
    return findings(EXAMPLE)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    with (target / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write(OKTA_SYSTEM)
    with (target / "nhi.yaml").open("a", encoding="utf-8") as handle:
        handle.write(OKTA_NHI)
    return target


def nhi_messages(catalog: Path) -> dict[str, str]:
    """The NHI findings of the Okta service login, by rule."""
    evaluation = evaluate(load_catalog(catalog))
    return {f.rule: f.message for f in evaluation.findings if f.subject == "NHI-OKTA-01"}


def import_users(catalog: Path, *extra: str | Path, pages: list[Path] = PAGES) -> Result:
    return run(
        "import", "okta-users", *pages, "--catalog", catalog, "--system", "okta",
        "--mapping", OKTA / "users.mapping.yaml", "--extracted-at", "2026-09-30T06:00:00Z",
        *extra,
    )  # fmt: skip


def import_app_users(catalog: Path, *extra: str | Path) -> Result:
    return run(
        "import", "okta-app-users", OKTA / "app-users-confluence.json", "--catalog", catalog,
        "--system", "confluence", "--mapping", OKTA / "app-users.mapping.yaml",
        "--extracted-at", "2026-09-30T06:05:00Z", *extra,
    )  # fmt: skip


def import_log(catalog: Path, *extra: str | Path) -> Result:
    return run(
        "import", "okta-system-log", OKTA / "system-log.json", "--catalog", catalog,
        "--system", "okta", "--kind", "events", "--mapping", OKTA / "system-log.mapping.yaml",
        *extra,
    )  # fmt: skip


# --- okta-users ---------------------------------------------------------------------------


USERS_EXTRACT = """\
account,person,account_type,entitlement
a.rossi@nwcomponents.example,a.rossi,employee,okta-user
h.singh@nwcomponents.example,h.singh,employee,okta-user
j.park@nwcomponents.example,j.park,employee,okta-user
k.nakamura@nwcomponents.example,k.nakamura,employee,okta-user
m.alvarez@nwcomponents.example,m.alvarez,employee,okta-user
r.patel@nwcomponents.example,r.patel,employee,okta-user
svc-scim-workday@nwcomponents.example,,service,okta-user
t.brooks@nwcomponents.example,t.brooks,employee,okta-user
z.angstrom@nwcomponents.example,z.angstrom,employee,okta-user
"""

USERS_DETAILS = """\
account,credential,active,interactive,last_used,last_rotated,expires,mfa_active
a.rossi@nwcomponents.example,okta-password,false,true,,,,
h.singh@nwcomponents.example,okta-federation,true,true,2026-05-14T16:22:05Z,,,
j.park@nwcomponents.example,okta-password,true,true,2026-09-29T07:41:18Z,2026-07-01T08:00:12Z,,
k.nakamura@nwcomponents.example,okta-password,true,true,2026-09-19T17:02:51Z,2026-03-20T08:00:00Z,,
m.alvarez@nwcomponents.example,okta-password,false,true,,,,
r.patel@nwcomponents.example,okta-password,true,true,2026-09-26T08:10:44Z,2026-06-18T07:40:00Z,,
svc-scim-workday@nwcomponents.example,okta-password,true,true,2026-09-22T03:14:27Z,2025-11-02T13:10:00Z,,
t.brooks@nwcomponents.example,okta-password,false,true,2026-09-01T08:55:12Z,2026-02-20T09:00:00Z,,
z.angstrom@nwcomponents.example,okta-password,true,true,2026-09-28T12:03:44Z,2026-08-17T08:10:00Z,,
"""


def test_three_pages_of_okta_users_become_one_state_of_okta(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_users(catalog)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "imported 9 row(s), 9 account(s), taken at 2026-09-30T06:00:00Z" in output
    assert "1 DEPROVISIONED user(s) hold no access and are left out: u.brandt@" in output
    assert "users-page3.json is an empty page" in output
    extract = catalog / "extracts/okta/2026-09-30-okta-users.csv"
    assert extract.read_text(encoding="utf-8") == USERS_EXTRACT
    details = extract.with_name("2026-09-30-okta-users.details.csv")
    assert details.read_text(encoding="utf-8") == USERS_DETAILS
    raw = catalog / "evidence/raw/okta"
    assert (raw / "2026-09-30-okta-users.part1.json").read_bytes() == PAGES[0].read_bytes()
    assert (raw / "2026-09-30-okta-users.part3.json").read_bytes() == b"[]\n"
    record = load_catalog(catalog).systems["okta"].extracts[-1]
    assert record.kind is ExtractKind.ACCOUNTS
    assert record.records == 9
    assert record.derived_from is not None
    assert record.derived_from.importer == "okta-users/1"
    assert record.source == "Okta users (GET /api/v1/users)"
    assert_valid(catalog)
    # h.singh left on 2026-05-15 and is still ACTIVE; u.brandt (left 2026-06-30) is
    # DEPROVISIONED, so no finding; z.angstrom is nobody the directory knows; the service
    # login is in the NHI inventory (no orphan), but its Okta password is older than the
    # policy whatever the inventory says (NHI-2), and it signed in to Okta (NHI-3)
    assert findings(catalog) - baseline == {
        ("LVR-1", "okta:h.singh"),
        ("ORP-1", "okta:z.angstrom"),
        ("NHI-2", "NHI-OKTA-01"),
        ("NHI-3", "NHI-OKTA-01"),
    }
    messages = nhi_messages(catalog)
    assert messages["NHI-2"] == (
        "svc-scim-workday@nwcomponents.example (NHI-OKTA-01): okta-password was last rotated "
        "332 days ago (imported extracts/okta/2026-09-30-okta-users.csv, taken 2026-09-30); "
        "the policy is 90 days"
    )
    assert (
        "first on 2026-09-22 (imported: extracts/okta/2026-09-30-okta-users.details.csv)"
        in (messages["NHI-3"])
    )
    assert baseline - findings(catalog) == set()
    first = snapshot(catalog)
    again = import_users(catalog)
    assert "nothing written" in again.output
    assert snapshot(catalog) == first


def test_a_suspended_user_still_holds_access_and_a_leaver_suspended_is_a_finding(
    catalog: Path, tmp_path: Path, baseline: set[tuple[str, str]]
) -> None:
    page = json.loads(PAGES[0].read_text(encoding="utf-8"))
    page[1]["status"] = "SUSPENDED"  # h.singh suspended rather than deactivated
    page[2]["status"] = "ACTIVE"  # u.brandt reactivated by mistake
    edited = tmp_path / "users.json"
    edited.write_text(json.dumps(page, indent=2), encoding="utf-8")
    result = import_users(catalog, pages=[edited])
    assert result.exit_code == 0, result.output
    added = findings(catalog) - baseline
    assert {("LVR-1", "okta:h.singh"), ("LVR-1", "okta:u.brandt")} <= added
    details = (catalog / "extracts/okta/2026-09-30-okta-users.details.csv").read_text()
    assert "h.singh@nwcomponents.example,okta-federation,false,true," in details


def test_okta_users_need_the_time_the_listing_was_taken(catalog: Path) -> None:
    before = snapshot(catalog)
    result = run("import", "okta-users", *PAGES, "--catalog", catalog, "--system", "okta")
    assert result.exit_code == 2
    assert "does not say when it was taken: give --extracted-at" in result.output
    assert snapshot(catalog) == before


def test_a_user_type_says_service_and_the_mapping_can_say_otherwise(
    catalog: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "okta.yaml"
    mapping.write_text(
        (OKTA / "users.mapping.yaml").read_text()
        + "account_types:\n  z.angstrom@nwcomponents.example: third-party\n"
    )
    result = import_users(catalog, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    lines = (catalog / "extracts/okta/2026-09-30-okta-users.csv").read_text().splitlines()
    assert "z.angstrom@nwcomponents.example,z.angstrom,third-party,okta-user" in lines
    assert "svc-scim-workday@nwcomponents.example,,service,okta-user" in lines


# --- okta-app-users ------------------------------------------------------------------------


APP_EXTRACT = """\
account,person,account_type,entitlement
h.singh@nwcomponents.example,h.singh,employee,confluence-users
j.park@nwcomponents.example,j.park,privileged,confluence-administrators
j.park@nwcomponents.example,j.park,privileged,confluence-users
svc-scim-workday@nwcomponents.example,,service,app-assignment
t.brooks@nwcomponents.example,t.brooks,employee,app-assignment
z.angstrom@nwcomponents.example,z.angstrom,employee,confluence-users
"""


def test_an_apps_assignments_become_the_state_of_the_app(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_app_users(catalog)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "imported 6 row(s), 5 account(s)" in output
    assert (
        "2 assignment(s) come from an Okta group (scope GROUP; remove the user from the "
        "group to remove them): h.singh@nwcomponents.example, z.angstrom@" in output
    )
    assert (
        "1 assignment(s) hold no access and are left out: u.brandt@nwcomponents.example (INACTIVE)"
        in output
    )
    extract = catalog / "extracts/confluence/2026-09-30-okta-app-users.csv"
    assert extract.read_text(encoding="utf-8") == APP_EXTRACT
    mapping = catalog / "evidence/raw/confluence/2026-09-30-okta-app-users.mapping.json"
    assert json.loads(mapping.read_text())["entitlement_attributes"] == ["groups"]
    record = load_catalog(catalog).systems["confluence"].extracts[-1]
    assert record.source == (
        "Okta application assignments (GET /api/v1/apps/{appId}/users), app 0oa1confluence00x1y2"
    )
    assert_valid(catalog)
    assert findings(catalog) - baseline == {
        ("LVR-1", "confluence:h.singh"),
        ("ORP-1", "confluence:z.angstrom"),
    }
    first = snapshot(catalog)
    assert import_app_users(catalog).exit_code == 0
    assert snapshot(catalog) == first


def test_without_a_mapping_the_role_roles_and_groups_attributes_are_the_entitlements(
    catalog: Path,
) -> None:
    result = run(
        "import", "okta-app-users", OKTA / "app-users-confluence.json", "--catalog", catalog,
        "--system", "confluence", "--extracted-at", "2026-09-30T06:05:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = (catalog / "extracts/confluence/2026-09-30-okta-app-users.csv").read_text()
    assert "svc-scim-workday@nwcomponents.example,,service,API\n" in lines  # its role
    assert "j.park@nwcomponents.example,,employee,confluence-administrators\n" in lines


def test_an_unknown_mapping_key_of_the_app_format_is_refused(catalog: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "typo.yaml"
    mapping.write_text("entitlement_attribute: [groups]\n")
    result = import_app_users(catalog, "--mapping", mapping)
    assert result.exit_code == 2
    assert (
        f"{mapping}:1:1: entitlement_attribute: unknown key 'entitlement_attribute'; did "
        "you mean 'entitlement_attributes'?" in result.output
    )


def test_assignments_of_two_apps_in_one_export_are_refused(catalog: Path, tmp_path: Path) -> None:
    items = json.loads((OKTA / "app-users-confluence.json").read_text(encoding="utf-8"))
    items[2]["_links"]["app"]["href"] = "https://nwcomponents.okta.com/api/v1/apps/0oa1workday"
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(items, indent=2), encoding="utf-8")
    result = run(
        "import", "okta-app-users", mixed, "--catalog", catalog, "--system", "confluence",
        "--extracted-at", "2026-09-30T06:05:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "[2]._links.app.href: an assignment of app 0oa1workday" in result.output
    assert "one export is one application" in result.output


# --- okta-system-log ---------------------------------------------------------------------------


LOG_EXTRACT = """\
account,person,account_type,entitlement
j.park@nwcomponents.example,j.park,employee,sign-in:okta
j.park@nwcomponents.example,j.park,employee,sso:Confluence
svc-scim-workday@nwcomponents.example,,service,sign-in:okta
z.angstrom@nwcomponents.example,z.angstrom,employee,sign-in:okta
"""

LOG_DETAILS = """\
account,credential,active,interactive,last_used,last_rotated,expires,mfa_active
j.park@nwcomponents.example,user.authentication.sso:7f1e2d3c-0002-11f1-9a8b-0123456789ab,,true,2026-09-28T07:58:40Z,,,
j.park@nwcomponents.example,user.session.start:7f1e2d3c-0001-11f1-9a8b-0123456789ab,,true,2026-09-28T07:58:12Z,,,
svc-scim-workday@nwcomponents.example,user.session.start:7f1e2d3c-0004-11f1-9a8b-0123456789ab,,true,2026-09-29T02:14:27Z,,,
z.angstrom@nwcomponents.example,user.session.start:7f1e2d3c-0006-11f1-9a8b-0123456789ab,,true,2026-09-29T12:03:44Z,,,
"""


def test_successful_sign_ins_become_an_events_extract_taken_at_the_latest_event(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_log(catalog)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "imported 4 row(s), 3 account(s), taken at 2026-09-29T18:04:51Z" in output
    assert (
        "3 event(s) are not a successful interactive sign-in and are skipped: "
        "1 policy.evaluate_sign_on, 1 user.lifecycle.deactivate, 1 user.session.start FAILURE"
        in output
    )
    extract = catalog / "extracts/okta/2026-09-29-okta-system-log.csv"
    assert extract.read_text(encoding="utf-8") == LOG_EXTRACT
    details = extract.with_name("2026-09-29-okta-system-log.details.csv")
    assert details.read_text(encoding="utf-8") == LOG_DETAILS
    record = load_catalog(catalog).systems["okta"].extracts[-1]
    assert record.kind is ExtractKind.EVENTS
    assert_valid(catalog)
    # a sign-in log is no state: nobody in it is an orphan or a leaver of okta, and it
    # says nothing about rotation (NHI-2); the service login's sign-in is NHI-3
    assert findings(catalog) - baseline == {("NHI-3", "NHI-OKTA-01")}
    assert nhi_messages(catalog)["NHI-3"] == (
        "1 interactive login(s) recorded for svc-scim-workday@nwcomponents.example "
        "(NHI-OKTA-01), first on 2026-09-29 (imported: "
        "extracts/okta/2026-09-29-okta-system-log.details.csv)"
    )
    first = snapshot(catalog)
    assert import_log(catalog).exit_code == 0
    assert snapshot(catalog) == first


def test_a_log_is_taken_at_its_latest_event_or_later_never_before(
    catalog: Path, tmp_path: Path
) -> None:
    before = snapshot(catalog)
    result = import_log(catalog, "--extracted-at", "2026-09-29T18:00:00Z")
    assert result.exit_code == 2
    assert (
        "the log holds an event at 2026-09-29T18:04:51Z, after --extracted-at "
        "2026-09-29T18:00:00Z" in result.output
    )
    assert snapshot(catalog) == before
    later = import_log(catalog, "--extracted-at", "2026-09-30T00:00:00Z")
    assert later.exit_code == 0, later.output
    assert "taken at 2026-09-30T00:00:00Z" in later.output


def test_the_pages_of_a_log_are_taken_no_earlier_than_the_newest_event_of_any_page(
    catalog: Path, tmp_path: Path
) -> None:
    events = json.loads((OKTA / "system-log.json").read_text(encoding="utf-8"))
    events.sort(key=lambda e: e["published"])
    half = len(events) // 2
    pages = [tmp_path / "page1.json", tmp_path / "page2.json"]
    pages[0].write_text(json.dumps(events[:half]), encoding="utf-8")
    pages[1].write_text(json.dumps(events[half:]), encoding="utf-8")
    result = run(
        "import", "okta-system-log", *pages, "--catalog", catalog, "--system", "okta",
        "--kind", "events", "--mapping", OKTA / "system-log.mapping.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "taken at 2026-09-29T18:04:51Z" in result.output


def test_a_log_without_sign_ins_still_says_when_it_ends(catalog: Path, tmp_path: Path) -> None:
    events = json.loads((OKTA / "system-log.json").read_text(encoding="utf-8"))
    quiet = tmp_path / "quiet.json"
    quiet.write_text(json.dumps([e for e in events if e["outcome"]["result"] != "SUCCESS"]))
    result = run(
        "import", "okta-system-log", quiet, "--catalog", catalog, "--system", "okta",
        "--kind", "events",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "taken at 2026-09-29T18:04:51Z" in result.output
    text = (catalog / "extracts/okta/2026-09-29-okta-system-log.csv").read_text()
    assert text == "account,person,account_type,entitlement\n"


# --- refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "file", "system", "expected"),
    [
        ("okta-users", OKTA / "users-malformed.json", "okta",
         "users-malformed.json:39:15: [1].status: status 'ENABLED' is not an Okta user status"),
        ("okta-app-users", OKTA / "app-users-malformed.json", "confluence",
         "app-users-malformed.json:70:14: [2].scope: scope 'ROBOT' is not USER or GROUP"),
        ("okta-system-log", OKTA / "system-log-malformed.json", "okta",
         "system-log-malformed.json:128:18: [1].published: published is '28/09/2026 07:58'; "
         "Okta writes an ISO 8601 time or null"),
        ("okta-system-log", PAGES[0], "okta",
         "users-page1.json:2:3: [0]: not a System Log event (an Okta user: import it with "
         "okta-users)"),
        ("okta-users", OKTA / "system-log.json", "okta",
         "system-log.json:2:3: [0]: not an Okta user (a System Log event: import it with "
         "okta-system-log)"),
        ("okta-users", OKTA / "app-users-confluence.json", "okta",
         "app-users-confluence.json:2:3: [0]: not an Okta user (an application assignment: "
         "import it with okta-app-users)"),
        ("okta-app-users", PAGES[1], "confluence",
         "users-page2.json:2:3: [0]: not an application assignment (an Okta user: import it "
         "with okta-users)"),
    ],
)  # fmt: skip
def test_a_malformed_or_other_okta_export_is_refused_with_its_position(
    catalog: Path, fmt: str, file: Path, system: str, expected: str
) -> None:
    before = snapshot(catalog)
    result = run(
        "import", fmt, file, "--catalog", catalog, "--system", system,
        *(["--extracted-at", "2026-09-30T06:00:00Z"] if fmt != "okta-system-log" else []),
    )  # fmt: skip
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert snapshot(catalog) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": "00u1", "status": "ACTIVE", "profile": {"login": "x@y"}}',
         ":1:1: (document): expected the JSON array of users the API returns (one page)"),
        ('{"errorCode": "E0000011", "errorSummary": "Invalid token provided"}',
         ":1:15: errorCode: an Okta error response (E0000011: Invalid token provided)"),
        ('[\n  {"id": "00u1", "status": "ACTIVE", "profile": {"email": "x@y"}}\n]',
         ":2:49: [0].profile.login: profile.login must be a non-empty string (got None)"),
        ('[\n  {"id": "00u1", "status": "ACTIVE", "lastLogin": "never",\n'
         '   "profile": {"login": "x@y"}}\n]',
         ":2:51: [0].lastLogin: lastLogin is 'never'; Okta writes an ISO 8601 time or null"),
        ('[\n  {"id": "00u1", "status": "active", "profile": {"login": "x@y"}}\n]',
         ":2:28: [0].status: status 'active' is not an Okta user status"),
        ('[{"id": "00u1", "status": "ACTIVE", "profile": {"login": "x@y"}}',
         ":1:65: not JSON: Expecting ',' delimiter"),
    ],
)  # fmt: skip
def test_hostile_users_files_are_refused_with_their_position(
    catalog: Path, tmp_path: Path, text: str, expected: str
) -> None:
    bad = tmp_path / "users.json"
    bad.write_text(text, encoding="utf-8")
    before = snapshot(catalog)
    result = import_users(catalog, pages=[bad])
    assert result.exit_code == 2
    assert f"{bad}{expected}" in result.output
    assert snapshot(catalog) == before


def test_an_app_assignment_without_any_account_name_says_how_to_export_it(
    catalog: Path, tmp_path: Path
) -> None:
    items = json.loads((OKTA / "app-users-confluence.json").read_text(encoding="utf-8"))
    del items[4]["_embedded"]
    bad = tmp_path / "app.json"
    bad.write_text(json.dumps(items, indent=2), encoding="utf-8")
    result = run(
        "import", "okta-app-users", bad, "--catalog", catalog, "--system", "confluence",
        "--extracted-at", "2026-09-30T06:05:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "[4]: no credentials.userName (the account in the app) and no _embedded.user" in (
        result.output
    )
