"""``controlbook import github-members`` and ``github-pats`` into a copy of the example
catalog with a GitHub organisation added: the extract and its details, the findings that
follow (ORP-1, LVR-1, NHI-2), the same import twice, and malformed exports refused.

Fixtures (tests/data/imports/github/SOURCE.md) follow GitHub's documentation:
https://docs.github.com/en/graphql/reference/objects#organizationmemberedge and
https://docs.github.com/en/rest/orgs/personal-access-tokens#list-fine-grained-personal-access-tokens-with-access-to-organization-resources
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import Result

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import assert_valid, findings, run, snapshot

GITHUB = ROOT / "tests" / "data" / "imports" / "github"

GITHUB_SYSTEM = """
  # The GitHub organisation nwcomponents (added by the GitHub import tests).
  - id: github
    name: GitHub organization nwcomponents
    sox_in_scope: false
    owner: a.rossi
    administrators: [j.park]
    account_types: [employee, privileged, service]
"""

PAT_INVENTORY = """
  - id: NHI-GH-01
    system: github
    account: pat:25390
    type: token
    owner: p.obrien
    purpose: AR reconciliation token, created by h.singh.
    last_rotated: 2026-09-01

  - id: NHI-GH-02
    system: github
    account: pat:25381
    type: token
    owner: j.park
    purpose: FINDW deployment token.
    rotation_days: 365
    last_rotated: 2026-09-01
"""


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """The findings of the catalog with the GitHub system, before any import."""
    return findings(_catalog(tmp_path_factory.mktemp("baseline")))


def _catalog(folder: Path) -> Path:
    target = folder / "controls"
    shutil.copytree(EXAMPLE, target)
    with (target / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write(GITHUB_SYSTEM)
    return target


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return _catalog(tmp_path)


def import_members(catalog: Path, *files: Path | str) -> Result:
    return run(
        "import", "github-members", *(files or [GITHUB / "members.json"]),
        "--catalog", catalog, "--system", "github", "--mapping", GITHUB / "mapping.yaml",
        "--extracted-at", "2026-09-20T07:00:00Z",
    )  # fmt: skip


def import_pats(catalog: Path, *files: Path | str) -> Result:
    pages = files or [GITHUB / f"pats-page{n}.json" for n in (1, 2, 3)]
    return run(
        "import", "github-pats", *pages, "--catalog", catalog, "--system", "github",
        "--mapping", GITHUB / "mapping.yaml", "--scope", "service",
        "--extracted-at", "2026-09-20T07:05:00Z",
    )  # fmt: skip


# --- github-members ----------------------------------------------------------------------

MEMBERS_EXTRACT = """\
account,person,account_type,entitlement
d-romero-nw,d.romero,privileged,org:admin
harpreet-s,h.singh,employee,org:member
jpark-nw,j.park,privileged,org:admin
nw-release-bot,,service,org:member
tbrooks,t.brooks,employee,org:member
vpetrov-kestrel,v.petrov,employee,org:member
"""

MEMBERS_DETAILS = """\
account,credential,active,interactive,last_used,last_rotated,expires,mfa_active
d-romero-nw,github-sign-in,true,true,,,,true
harpreet-s,github-sign-in,true,true,,,,false
jpark-nw,github-sign-in,true,true,,,,true
nw-release-bot,github-sign-in,true,true,,,,true
tbrooks,github-sign-in,true,true,,,,true
vpetrov-kestrel,github-sign-in,true,true,,,,
"""


def test_organisation_members_become_accounts_with_their_role_and_2fa(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_members(catalog)
    assert result.exit_code == 0, result.output
    extract = catalog / "extracts/github/2026-09-20-github-members.csv"
    assert extract.read_text(encoding="utf-8") == MEMBERS_EXTRACT  # tbrooks on two pages: once
    details = extract.with_name("2026-09-20-github-members.details.csv")
    assert details.read_text(encoding="utf-8") == MEMBERS_DETAILS  # null 2FA: not known
    assert_valid(catalog)
    record = load_catalog(catalog).systems["github"].extracts[-1]
    assert record.derived_from is not None
    assert record.derived_from.importer == "github-members/1"
    assert record.source is not None
    assert "membersWithRole" in record.source
    assert findings(catalog) - baseline == {
        ("ORP-1", "github:v.petrov"),  # the Kestrel engineer the directory does not know
        ("LVR-1", "github:h.singh"),  # left on 2026-05-15, still a member on 2026-09-20
    }
    evd = [f for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"]
    assert not [f for f in evd if f.subject == record.file]


def test_a_second_import_of_the_same_members_changes_no_byte(catalog: Path) -> None:
    assert import_members(catalog).exit_code == 0
    first = snapshot(catalog)
    again = import_members(catalog)
    assert again.exit_code == 0, again.output
    assert "nothing written" in again.output
    assert snapshot(catalog) == first


def test_one_page_per_file_is_the_same_export_as_the_slurped_pages(
    catalog: Path, tmp_path: Path
) -> None:
    pages = json.loads((GITHUB / "members.json").read_text(encoding="utf-8"))
    files = []
    for number, page in enumerate(pages, start=1):
        files.append(tmp_path / f"page{number}.json")
        files[-1].write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    result = import_members(catalog, *files)
    assert result.exit_code == 0, result.output
    text = (catalog / "extracts/github/2026-09-20-github-members.csv").read_text(encoding="utf-8")
    assert text == MEMBERS_EXTRACT


def test_a_malformed_member_edge_is_refused_with_its_line_and_path(catalog: Path) -> None:
    before = snapshot(catalog)
    result = import_members(catalog, GITHUB / "malformed-members.json")
    assert result.exit_code == 2
    assert (
        f"{GITHUB / 'malformed-members.json'}:70:23: "
        "[1].data.organization.membersWithRole.edges[2].role: role 'OWNER' is not ADMIN or MEMBER"
    ) in result.output
    assert "Traceback" not in result.output
    assert snapshot(catalog) == before


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("pats-page1.json", "pats-page1.json:1:1: (document): expected a GraphQL response object"),
        ("mapping.yaml", "mapping.yaml:1:1: not JSON"),
    ],
)
def test_a_file_of_another_format_is_not_a_member_list(
    catalog: Path, file: str, expected: str
) -> None:
    before = snapshot(catalog)
    result = import_members(catalog, GITHUB / file)
    assert result.exit_code == 2
    assert expected in result.output
    assert snapshot(catalog) == before


def test_a_graphql_error_response_is_an_incomplete_export(catalog: Path, tmp_path: Path) -> None:
    page = tmp_path / "errors.json"
    page.write_text(
        '{"data": {"organization": null},\n "errors": [{"type": "FORBIDDEN", '
        '"message": "Resource not accessible by integration"}]}\n'
    )
    result = import_members(catalog, page)
    assert result.exit_code == 2
    assert f"{page}:2:12: errors: the GraphQL response reports errors" in result.output


# --- github-pats -------------------------------------------------------------------------

PATS_EXTRACT = """\
account,person,account_type,entitlement
pat:25381,j.park,service,repositories:subset
pat:25381,j.park,service,repository:contents:write
pat:25381,j.park,service,repository:metadata:read
pat:25390,h.singh,service,organization:members:read
pat:25390,h.singh,service,repositories:all
pat:25390,h.singh,service,repository:issues:write
"""

PATS_DETAILS = """\
account,credential,active,interactive,last_used,last_rotated,expires,mfa_active
pat:25381,findw-deploy (Jae-won),true,false,2026-09-19T22:05:10Z,2026-02-03T09:12:44Z,2026-11-01T00:00:00Z,
pat:25390,AR-Abgleich ✓,true,false,never,2025-11-20T16:40:02Z,never,
"""


def test_fine_grained_tokens_are_service_accounts_of_their_owner(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_pats(catalog)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "1 expired token(s) grant nothing and are left out: pat:25402" in output
    assert "1 empty page(s)" in output
    extract = catalog / "extracts/github/2026-09-20-github-pats.csv"
    assert extract.read_text(encoding="utf-8") == PATS_EXTRACT  # pat:25381 on two pages: once
    details = extract.with_name("2026-09-20-github-pats.details.csv")
    assert details.read_text(encoding="utf-8") == PATS_DETAILS
    assert_valid(catalog)
    # the leaver's token is the leaver's access
    assert findings(catalog) - baseline == {("LVR-1", "github:h.singh")}
    first = snapshot(catalog)
    assert import_pats(catalog).exit_code == 0
    assert snapshot(catalog) == first


def test_an_inventoried_token_older_than_its_policy_is_nhi_2(catalog: Path) -> None:
    with (catalog / "nhi.yaml").open("a", encoding="utf-8") as handle:
        handle.write(PAT_INVENTORY)
    before = {f.subject: f for f in evaluate(load_catalog(catalog)).findings if f.rule == "NHI-2"}
    assert "NHI-GH-01" not in before  # the inventory says rotated 2026-09-01
    assert import_pats(catalog).exit_code == 0
    after = {f.subject: f for f in evaluate(load_catalog(catalog)).findings if f.rule == "NHI-2"}
    # access granted 2025-11-20: 314 days at as_of 2026-09-30, policy 90
    assert "AR-Abgleich ✓ was last rotated 314 days ago" in after["NHI-GH-01"].message
    assert "NHI-GH-02" not in after  # 239 days, within its 365-day policy


def test_a_malformed_token_grant_is_refused_with_its_line_and_path(catalog: Path) -> None:
    before = snapshot(catalog)
    result = import_pats(catalog, GITHUB / "pats-page1.json", GITHUB / "malformed-pats.json")
    assert result.exit_code == 2
    assert (
        f"{GITHUB / 'malformed-pats.json'}:49:20: [1].permissions.organization.members: "
        "level 'maintain' is not read, write or admin"
    ) in result.output
    assert snapshot(catalog) == before


def test_a_token_grant_without_its_owner_or_times_is_refused(catalog: Path, tmp_path: Path) -> None:
    grant = json.loads((GITHUB / "pats-page1.json").read_text(encoding="utf-8"))[0]
    for change, expected in (
        ({"owner": None}, "[0].owner: owner (the user who created the token) is required"),
        ({"access_granted_at": "yesterday"}, "access_granted_at is 'yesterday'"),
        ({"token_expired": "false"}, "token_expired is 'false', not a boolean"),
        ({"repository_selection": "selected"}, "repository_selection 'selected' is not all"),
    ):
        page = tmp_path / "page.json"
        page.write_text(json.dumps([{**grant, **change}], indent=2))
        result = import_pats(catalog, page)
        assert result.exit_code == 2, change
        assert expected in result.output, result.output


def test_a_member_list_is_not_a_token_list(catalog: Path) -> None:
    result = import_pats(catalog, GITHUB / "members.json")
    assert result.exit_code == 2
    assert "members.json" in result.output
    assert "[0]: not a token grant (id, owner, permissions) of GET /orgs/{org}/personal" in (
        result.output
    )
