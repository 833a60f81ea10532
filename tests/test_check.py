"""`controlbook check`: text, JSON and SARIF output, and the exit codes CI relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from generator.report import jsonout
from tests.conftest import ROOT, CatalogDir

SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
CONTROL = "controls/UAR-APP-01.yaml"


def check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def gap(starter: CatalogDir) -> CatalogDir:
    """The starter catalog with one high finding: the control is owned by a team (OWN-1)."""
    people = starter.path / "people.yaml"
    people.write_text(
        people.read_text() + "  - id: finance-team\n    name: Finance\n    kind: team\n"
    )
    starter.replace(CONTROL, "  - person: j.okafor", "  - person: finance-team")
    return starter


def test_a_clean_catalog_exits_0_and_says_what_was_not_assessed(starter: CatalogDir) -> None:
    result = check(str(starter.path))
    assert result.returncode == 0, result.stderr
    assert "0 open finding(s)" in result.stdout
    assert "Not assessed" in result.stdout
    assert "not due until 2026-07-30" in result.stdout


def test_text_groups_findings_by_control_with_location_and_fix(gap: CatalogDir) -> None:
    result = check(str(gap.path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "UAR-APP-01" in lines
    owner_line = next(line for line in lines if "OWN-1" in line)
    assert f"{gap.path.as_posix()}/{CONTROL}:13:13" in owner_line
    assert "owner 'finance-team' is a team; a control owner must be a named person" in owner_line
    assert "fix: Name one person" in lines[lines.index(owner_line) + 1]


def test_fail_on_moves_the_threshold(gap: CatalogDir) -> None:
    assert check(str(gap.path), "--fail-on", "critical").returncode == 0
    assert check(str(gap.path), "--fail-on", "low").returncode == 1


def test_as_of_makes_an_earlier_review_overdue(starter: CatalogDir) -> None:
    result = check(str(starter.path), "--as-of", "2026-09-30", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["as_of"] == "2026-09-30"
    assert [(f["rule"], f["subject"]) for f in report["findings"]] == [
        ("CAD-1", "app-users:2026-06-30")
    ]


def test_bad_as_of_is_a_usage_error(starter: CatalogDir) -> None:
    result = check(str(starter.path), "--as-of", "30/09/2026")
    assert result.returncode == 2
    assert "'30/09/2026' is not a date (YYYY-MM-DD)" in result.stderr


def test_json_is_versioned_and_complete(gap: CatalogDir) -> None:
    result = check(str(gap.path), "--format", "json")
    report = json.loads(result.stdout)
    assert (report["format"], report["version"]) == (jsonout.FORMAT, jsonout.VERSION)
    assert report["summary"] == {
        "open": 1,
        "waived": 0,
        "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 0},
        "threshold": "high",
        "failing": 1,
    }
    [finding] = report["findings"]
    assert finding["rule"] == "OWN-1"
    assert finding["location"] == {
        "file": f"{gap.path.as_posix()}/{CONTROL}",
        "line": 13,
        "column": 13,
    }
    assert {r["id"] for r in report["rules"]} >= {"OWN-1", "SOD-3", "MAP-2"}


def test_sarif_validates_and_points_at_the_yaml_line(gap: CatalogDir) -> None:
    result = check("catalog", "--format", "sarif", cwd=gap.path.parent)
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SCHEMA)
    [run] = log["runs"]
    [res] = run["results"]
    assert res["ruleId"] == "OWN-1"
    assert res["level"] == "error"
    location = res["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"catalog/{CONTROL}"
    assert location["region"] == {"startLine": 13, "startColumn": 13}
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "OWN-1"


def test_output_file_gets_the_report(gap: CatalogDir, tmp_path: Path) -> None:
    target = tmp_path / "findings.sarif"
    result = check(str(gap.path), "--format", "sarif", "--output", str(target))
    assert result.returncode == 1
    assert result.stdout == ""
    jsonschema.validate(json.loads(target.read_text()), SARIF_SCHEMA)


def test_a_malformed_extract_is_a_data_error_with_file_and_line(starter: CatalogDir) -> None:
    starter.write(
        "extracts/app-2026-03-31.csv",
        "account,person,account_type,entitlement\nskim,s.kim,employee\n",
    )
    result = check(str(starter.path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        f"{starter.path.as_posix()}/extracts/app-2026-03-31.csv:2:1: expected 4 fields, got 3"
        in result.stderr
    )
