"""``controlbook import baton-csv``: the CSV of ConductorOne's Baton CLI (``baton export
csv``) imported into a copy of the example catalog with two systems one Okta sync holds:
the extract over both, the findings that follow (ORP-1, LVR-1), the same import twice,
and files that are not a Baton export refused with their line.

The layout is the Baton CLI's (https://github.com/ConductorOne/baton, cmd/baton/export.go
and cmd/baton/csv.go); see tests/data/imports/baton/SOURCE.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import Result

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import assert_valid, findings, run, snapshot

BATON = ROOT / "tests" / "data" / "imports" / "baton"

SYSTEMS = """
  # Okta and an app it signs in to, both in one Baton sync (added by the Baton tests).
  - id: okta
    name: Okta (nwcomponents.okta.com)
    sox_in_scope: false
    owner: f.haddad
    administrators: [h.larsen]
    account_types: [employee, privileged]
  - id: jira
    name: Jira Cloud
    sox_in_scope: false
    owner: s.lindqvist
    administrators: [y.tanaka]
    account_types: [employee, privileged]
"""


def _catalog(folder: Path) -> Path:
    target = folder / "controls"
    shutil.copytree(EXAMPLE, target)
    with (target / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write(SYSTEMS)
    return target


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    return findings(_catalog(tmp_path_factory.mktemp("baseline")))


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return _catalog(tmp_path)


def import_baton(catalog: Path, *extra: str | Path, file: Path = BATON / "sync.csv") -> Result:
    return run(
        "import", "baton-csv", file, "--catalog", catalog, "--system", "okta",
        "--system", "jira", "--mapping", BATON / "mapping.yaml",
        "--extracted-at", "2026-09-21T05:00:00Z", *extra,
    )  # fmt: skip


EXTRACT = """\
system,account,person,account_type,entitlement
jira,j.park@nwcomponents.example,j.park,employee,app:Jira Cloud:access
jira,t.brooks@nwcomponents.example,t.brooks,employee,app:Jira Cloud:access
jira,v.petrov@kestrel.example,v.petrov@kestrel.example,employee,app:Jira Cloud:access
okta,a.moreau@nwcomponents.example,a.moreau,employee,group:Finanzen – Kreditoren:member
okta,h.singh@nwcomponents.example,h.singh,employee,group:Finanzen – Kreditoren:member
okta,j.park@nwcomponents.example,j.park,privileged,role:Super Administrator:assigned
"""


def test_one_baton_sync_becomes_one_extract_over_the_systems_it_holds(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_baton(catalog)
    assert result.exit_code == 0, result.output
    assert (
        "grants of 1 disabled or deleted user(s) left out: u.brandt@nwcomponents.example"
        in result.output
    )
    extract = catalog / "extracts/okta/2026-09-21-baton-csv.csv"
    assert extract.read_text(encoding="utf-8") == EXTRACT
    assert (catalog / "evidence/raw/okta/2026-09-21-baton-csv.csv").read_bytes() == (
        BATON / "sync.csv"
    ).read_bytes()
    assert_valid(catalog)
    record = load_catalog(catalog).systems["okta"].extracts[-1]
    assert record.systems == ["okta", "jira"]
    assert record.derived_from is not None
    assert record.derived_from.importer == "baton-csv/1"
    assert findings(catalog) - baseline == {
        ("ORP-1", "jira:v.petrov@kestrel.example"),  # the vendor address matches nobody
        ("LVR-1", "okta:h.singh"),  # left 2026-05-15, still in the group on 2026-09-21
    }
    evd = [f for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"]
    assert not [f for f in evd if f.subject == record.file]
    first = snapshot(catalog)
    again = import_baton(catalog)
    assert again.exit_code == 0, again.output
    assert snapshot(catalog) == first


def test_without_a_systems_mapping_every_grant_is_the_one_system(
    catalog: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "okta-only.yaml"
    mapping.write_text("person_from_email: '(.+)@nwcomponents\\.example'\n")
    result = run(
        "import", "baton-csv", BATON / "sync.csv", "--catalog", catalog, "--system", "okta",
        "--mapping", mapping, "--extracted-at", "2026-09-21T05:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = (catalog / "extracts/okta/2026-09-21-baton-csv.csv").read_text().splitlines()
    assert lines[0] == "account,person,account_type,entitlement"
    assert "t.brooks@nwcomponents.example,t.brooks,employee,app:Jira Cloud:access" in lines
    assert len(lines) == 7


def test_a_resource_the_mapping_does_not_place_is_refused_with_its_line(
    catalog: Path, tmp_path: Path
) -> None:
    before = snapshot(catalog)
    mapping = tmp_path / "partial.yaml"
    mapping.write_text("systems:\n  group: okta\n  role: okta\n")
    result = run(
        "import", "baton-csv", BATON / "sync.csv", "--catalog", catalog, "--system", "okta",
        "--system", "jira", "--mapping", mapping, "--extracted-at", "2026-09-21T05:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"{BATON / 'sync.csv'}:15:1: resource app:Jira Cloud is not under systems: in the "
        "mapping" in result.output
    )
    assert snapshot(catalog) == before


def test_a_malformed_baton_export_is_refused_with_its_line(catalog: Path) -> None:
    before = snapshot(catalog)
    result = import_baton(catalog, file=BATON / "malformed.csv")
    assert result.exit_code == 2
    assert (
        f"{BATON / 'malformed.csv'}:14:1: Type 'Assignment' is not Identity, Entitlement or Grant"
        in result.output
    )
    assert "Traceback" not in result.output
    assert snapshot(catalog) == before


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            ROOT / "tests/data/imports/csv/sap-user-roles.csv",
            "sap-user-roles.csv:1:1: not a Baton CSV export: the header lacks Type",
        ),
        (ROOT / "tests/data/imports/github/pats-page3.json", "not a Baton CSV export"),
    ],
)
def test_a_file_of_another_format_is_not_a_baton_export(
    catalog: Path, file: Path, expected: str
) -> None:
    result = import_baton(catalog, file=file)
    assert result.exit_code == 2
    assert expected in result.output


def test_a_grant_row_with_a_missing_field_is_refused(catalog: Path, tmp_path: Path) -> None:
    lines = (BATON / "sync.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    short = tmp_path / "short.csv"
    short.write_text("".join(lines[:11]) + lines[11].rsplit(",", 1)[0] + "\n", encoding="utf-8")
    result = import_baton(catalog, file=short)
    assert result.exit_code == 2
    assert f"{short}:12:1: expected 12 fields, got 11" in result.output
    anonymous = tmp_path / "anonymous.csv"
    anonymous.write_text(
        "".join(lines[:11]) + lines[11].replace("h.singh@nwcomponents.example", ""),
        encoding="utf-8",
    )
    result = import_baton(catalog, file=anonymous)
    assert result.exit_code == 2
    assert f"{anonymous}:12:1: a Grant row without User ID or Email Address" in result.output
