"""`controlbook diff`: what a change to the catalog changes, read from real git repositories."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from generator.cli import main
from generator.report.diffmd import MARKER
from tests.conftest import ROOT, SCAFFOLD

SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
UAR = "controls/controls/UAR-APP-01.yaml"
CHG = "controls/controls/CHG-APP-01.yaml"

CHANGE_CONTROL = """\
kind: control
id: CHG-APP-01
title: Changes to the billing application are approved before release
nature: preventive
automation: manual
frequency: event-driven
owners:
  - person: a.rivera
    since: 2025-01-01
executor: iam-team
systems: [app]
mappings:
  csf: [PR.PS-01]
"""
RULESET = """\
kind: sod-ruleset
id: sod-billing
name: Billing
duties:
  - id: create-invoice
    name: Create invoices
    grants: [{system: app, entitlement: BILLING_CLERK}]
  - id: approve-credit
    name: Approve credit notes
    grants: [{system: app, entitlement: BILLING_APPROVER}]
conflicts:
  - duties: [create-invoice, approve-credit]
"""
EXCEPTIONS = """\
kind: sod-exceptions
exceptions:
  - id: EXC-1
    person: s.kim
    ruleset: sod-billing
    conflict: [create-invoice, approve-credit]
    requester: j.okafor
    approver: a.rivera
    business_owner: j.okafor
    control_owner: j.okafor
    justification: Month-end cover while the accounts payable team is short-staffed.
    compensating_control: UAR-APP-01
    granted: 2026-01-15
    expires: 2026-06-30
"""
ADMINS = """\
  - id: app-admins
    name: Billing application administrators
    system: app
    account_types: [privileged]
"""


def shown(result: Result) -> str:
    """The Markdown as a reader sees its text: character references decoded."""
    return html.unescape(result.stdout)


@dataclass
class Repo:
    """A git repository in a temp folder whose ``controls/`` folder is a catalog."""

    path: Path

    def git(self, *args: str) -> str:
        identity = ("-c", "user.name=Test", "-c", "user.email=test@example.com")
        done = subprocess.run(
            ["git", "-C", str(self.path), *identity, *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        target = self.path / rel
        text = target.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        target.write_text(text.replace(old, new, 1), encoding="utf-8")

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def diff(self, *args: str) -> Result:
        """``controlbook diff BASE HEAD controls`` (``args`` start with BASE and HEAD)."""
        return CliRunner().invoke(main, ["diff", *args[:2], str(self.path / "controls"), *args[2:]])

    def diff_json(self, *args: str) -> dict[str, Any]:
        result = self.diff(*args, "--format", "json")
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """The starter catalog, plus a privileged population, a second (event-driven) control,
    a SoD rule set and one exception; clean at its as-of date, committed on ``main``."""
    repo = Repo(tmp_path / "repo")
    shutil.copytree(SCAFFOLD, repo.path / "controls", ignore=shutil.ignore_patterns("__pycache__"))
    repo.git("init", "-q", "-b", "main")
    repo.replace("controls/catalog.yaml", "as_of: 2026-05-15", "as_of: 2026-04-20")
    repo.replace("controls/systems.yaml", "[employee]", "[employee, privileged]")
    repo.replace(UAR, "    selection: Every enabled account in the quarter-end user export.\n", "")
    repo.replace(UAR, "approval:\n", f"{ADMINS}approval:\n")
    repo.replace(UAR, "  csf: [PR.AA-05]", "  csf: [PR.AA-05]\nsod_rulesets: [sod-billing]")
    repo.write(CHG, CHANGE_CONTROL)
    repo.write("controls/sod-billing.yaml", RULESET)
    repo.write("controls/exceptions.yaml", EXCEPTIONS)
    repo.commit("catalog")
    return repo


def _remove_chg(repo: Repo) -> None:
    (repo.path / CHG).unlink()


Edit = Callable[[Repo], None]
CASES: list[tuple[str, Edit, str, str, int]] = [
    (
        "owner",
        lambda r: r.replace(UAR, "  - person: j.okafor", "  - person: a.rivera"),
        "owner on 2026-04-20: j.okafor → a.rivera (a.rivera is an active person)",
        "owner",
        0,
    ),
    (
        "executor",
        lambda r: r.replace(UAR, "executor: iam-team", "executor: m.novak"),
        "executor: iam-team → m.novak",
        "executor",
        0,
    ),
    (
        "frequency-weakened",
        lambda r: r.replace(UAR, "frequency: quarterly", "frequency: annual"),
        "⛔ **frequency-weakened** (blocking): frequency: quarterly → annual (operates less often)",
        "frequency",
        1,
    ),
    (
        "frequency-not-ranked",
        lambda r: r.replace(CHG, "frequency: event-driven", "frequency: continuous"),
        "- frequency: event-driven → continuous (",
        "frequency",
        0,
    ),
    (
        "population-added",
        lambda r: r.replace(
            UAR, "approval:\n", ADMINS.replace("admins", "readers") + "approval:\n"
        ),
        "population added: app-readers (app: privileged)",
        "population-added",
        0,
    ),
    (
        "population-removed",
        lambda r: r.replace(UAR, ADMINS, ""),
        "⛔ **population-removed** (blocking): population removed: app-admins (app: privileged) "
        "(no longer reviewed: privileged accounts of app)",
        "population-removed",
        1,
    ),
    (
        "approval",
        lambda r: r.replace(UAR, "approver: application-owner", "approver: system-owner"),
        "approval rule: application-owner → system-owner",
        "approval",
        0,
    ),
    (
        "retention-shortened",
        lambda r: r.replace("controls/catalog.yaml", "retention_years: 7", "retention_years: 5"),
        "⛔ **retention-shortened** (blocking): evidence retention: 7 years → 5 years "
        "(from the catalog settings)",
        "retention",
        1,
    ),
    (
        "mapping-added",
        lambda r: r.replace(UAR, "csf: [PR.AA-05]", "csf: [PR.AA-05, PR.AA-01]"),
        "mapping added: PR.AA-01",
        "mapping-added",
        0,
    ),
    (
        "sod-ruleset-removed",
        lambda r: r.replace(UAR, "sod_rulesets: [sod-billing]", "sod_rulesets: []"),
        "⚠️ **sod-ruleset-removed**: SoD rule set removed: sod-billing",
        "sod-ruleset-removed",
        0,
    ),
    (
        "control-added",
        lambda r: r.write(
            "controls/controls/CHG-APP-02.yaml",
            CHANGE_CONTROL.replace("CHG-APP-01", "CHG-APP-02"),
        ),
        "CHG-APP-02: Changes to the billing application are approved before release "
        "(owner a.rivera, event-driven)",
        "added:CHG-APP-02",
        0,
    ),
    (
        "control-removed",
        _remove_chg,
        "⛔ **control-removed** (blocking): CHG-APP-01: Changes to the billing application are "
        "approved before release (was at controls/controls/CHG-APP-01.yaml:2); "
        "no control maps PR.PS-01 any more",
        "deleted:CHG-APP-01",
        1,
    ),
    (
        "exception-extended",
        lambda r: r.replace("controls/exceptions.yaml", "2026-06-30", "2026-07-10"),
        "⛔ **exception-extended** (blocking): EXC-1 (s.kim: create-invoice / approve-credit) "
        "expiry extended: 2026-06-30 → 2026-07-10",
        "exception-extended:EXC-1",
        1,
    ),
    (
        "exception-expiry-removed",
        lambda r: r.replace("controls/exceptions.yaml", "    expires: 2026-06-30\n", ""),
        "⛔ **exception-extended** (blocking): EXC-1 (s.kim: create-invoice / approve-credit) "
        "expiry extended: 2026-06-30 → never",
        "exception-extended:EXC-1",
        1,
    ),
]


def _json_items(report: dict[str, Any]) -> set[str]:
    """What the JSON comparison holds: change kinds, ``status:control`` and
    ``exception-change:exception`` entries."""
    comparison = report["comparison"]
    items = {f"{c['status']}:{c['id']}" for c in comparison["controls"]}
    items |= {c["kind"] for control in comparison["controls"] for c in control["changes"]}
    return items | {f"exception-{e['change']}:{e['id']}" for e in comparison["exceptions"]}


@pytest.mark.parametrize(
    ("edit", "line", "item", "exit_code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_change_has_its_line_in_markdown_and_json_and_its_exit_code(
    repo: Repo, edit: Edit, line: str, item: str, exit_code: int
) -> None:
    edit(repo)
    markdown = repo.diff("HEAD", ".")
    assert markdown.exit_code == exit_code, markdown.output
    assert line in shown(markdown)
    report = repo.diff_json("HEAD", ".")
    assert report["summary"]["exit_code"] == exit_code
    assert item in _json_items(report)


def test_key_nature_and_automation_changes_each_have_a_line(repo: Repo) -> None:
    repo.replace(
        CHG,
        "nature: preventive\nautomation: manual",
        "key: true\nnature: detective\nautomation: automated",
    )
    result = repo.diff("HEAD", ".")
    for line in (
        "- key control: not key → key",
        "- nature: preventive → detective",
        "- automation: manual → automated",
    ):
        assert line in shown(result)


def test_a_removed_mapping_is_a_non_blocking_weakening_that_names_the_lost_id(repo: Repo) -> None:
    repo.replace(CHG, "  csf: [PR.PS-01]", "  csf: [PR.PS-02]")
    result = repo.diff("HEAD", ".")
    assert (
        "⚠️ **mapping-removed**: mapping removed: PR.PS-01 (no control maps it any more)"
        in shown(result)
    )
    assert "- mapping added: PR.PS-02" in shown(result)
    assert result.exit_code == 0
    report = repo.diff_json("HEAD", ".", "--fail-on", "critical")
    [control] = report["comparison"]["controls"]
    assert [(c["kind"], c["weakening"], c["blocking"]) for c in control["changes"]] == [
        ("mapping-added", None, False),
        ("mapping-removed", "mapping-removed", False),
    ]


def test_block_on_of_base_decides_which_weakenings_fail(repo: Repo) -> None:
    repo.replace("controls/catalog.yaml", "classification: Internal", "block_on: [mapping-removed]")
    repo.commit("the reviewed policy: only a removed mapping blocks")
    repo.replace("controls/exceptions.yaml", "2026-06-30", "2026-07-10")
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 0, result.output
    assert "⚠️ **exception-extended**: EXC-1" in shown(result)
    assert "✅ No new findings; 1 non-blocking weakening" in shown(result)
    assert "on weakenings: mapping-removed, policy-relaxed (policy from BASE's settings)" in (
        shown(result)
    )


# -- the gate's policy comes from BASE, never from the change it judges ----------------------


def test_a_change_that_empties_block_on_is_still_judged_by_base_and_blocked(repo: Repo) -> None:
    repo.replace("controls/catalog.yaml", "classification: Internal", "block_on: []")
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 1, result.output
    out = shown(result)
    assert "### ❌ This change weakens 1 control and relaxes the review policy (block_on)" in out
    assert "⛔ **frequency-weakened** (blocking): frequency: quarterly → annual" in out
    assert (
        "⛔ **policy-relaxed** (blocking): block_on: control-removed, frequency-weakened, "
        "population-removed, retention-shortened, exception-extended → none"
    ) in out
    report = repo.diff_json("HEAD", ".")
    assert report["policy"]["block_on_from"] == "base"
    assert "frequency-weakened" in report["policy"]["block_on"]
    assert report["summary"]["blocking_settings"] == ["block_on"]
    [setting] = report["comparison"]["settings"]
    assert (setting["weakening"], setting["blocking"]) == ("policy-relaxed", True)


def test_a_change_that_raises_fail_on_is_judged_by_base_threshold(repo: Repo) -> None:
    repo.replace("controls/catalog.yaml", "fail_on: high", "fail_on: critical")
    repo.replace(
        "controls/people.yaml",
        "  - id: iam-team",
        "  - id: fin-team\n    name: Finance\n    kind: team\n  - id: iam-team",
    )
    repo.replace(UAR, "  - person: j.okafor", "  - person: fin-team")  # OWN-1, high
    report = repo.diff_json("HEAD", ".")
    assert (report["policy"]["threshold"], report["policy"]["threshold_from"]) == ("high", "base")
    assert [f["rule"] for f in report["summary"]["failing"]] == ["OWN-1"]
    assert report["summary"]["blocking_settings"] == ["fail_on"]
    assert report["summary"]["exit_code"] == 1


def test_making_the_policy_stricter_is_not_a_weakening(repo: Repo) -> None:
    repo.replace("controls/catalog.yaml", "fail_on: high", "fail_on: medium")
    report = repo.diff_json("HEAD", ".")
    assert [(s["field"], s["weakening"]) for s in report["comparison"]["settings"]] == [
        ("fail_on", None)
    ]
    assert report["summary"]["exit_code"] == 0


def test_the_policy_can_be_pinned_on_the_command_line(repo: Repo) -> None:
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    pinned = repo.diff_json("HEAD", ".", "--block-on", "control-removed,mapping-removed")
    assert pinned["policy"] == {
        "threshold": "high",
        "block_on": ["control-removed", "mapping-removed"],
        "threshold_from": "base",
        "block_on_from": "command-line",
    }
    assert pinned["summary"]["exit_code"] == 0
    assert repo.diff("HEAD", ".", "--block-on", "frequency-weakened").exit_code == 1
    assert repo.diff("HEAD", ".", "--block-on", "").exit_code == 0
    unknown = repo.diff("HEAD", ".", "--block-on", "frequency-weakend")
    assert unknown.exit_code == 2
    assert "unknown weakening 'frequency-weakend'" in unknown.output


# -- the catalog path: a real folder on both sides ----------------------------------------


def _swap_for_symlink(repo: Repo) -> None:
    """What the security review did: move the catalog, weaken it, and leave ``controls``
    as a symbolic link to the moved folder."""
    repo.git("mv", "controls", "renamed")
    repo.replace(
        UAR.replace("controls/", "renamed/", 1), "frequency: quarterly", "frequency: annual"
    )
    (repo.path / "controls").symlink_to("renamed", target_is_directory=True)
    repo.commit("move the catalog and link it")


@pytest.mark.parametrize("head", ["HEAD", "."])
def test_a_catalog_swapped_for_a_symlink_is_refused(repo: Repo, head: str) -> None:
    _swap_for_symlink(repo)
    result = repo.diff("HEAD~1", head)
    assert result.exit_code == 2, result.output
    assert "controls is a symbolic link" in result.stderr
    assert "must be a real folder on both sides" in result.stderr


def test_a_catalog_that_was_a_symlink_at_base_is_refused(repo: Repo) -> None:
    repo.git("mv", "controls", "v1")
    (repo.path / "controls").symlink_to("v1", target_is_directory=True)
    repo.commit("catalog reached through a link")
    (repo.path / "controls").unlink()
    repo.git("mv", "v1", "controls")
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 2, result.output
    assert f"controls is a symbolic link at HEAD ({repo.git('rev-parse', 'HEAD')[:7]})" in (
        result.stderr
    )


def test_a_folder_on_the_way_to_the_catalog_may_not_be_a_symlink(repo: Repo) -> None:
    (repo.path / "sub").mkdir()
    repo.git("mv", "controls", "sub/controls")
    (repo.path / "catalogs").symlink_to("sub", target_is_directory=True)
    repo.commit("catalogs/ is a link to sub/")
    catalog = str(repo.path / "catalogs" / "controls")
    result = CliRunner().invoke(main, ["diff", "HEAD", ".", catalog])
    assert result.exit_code == 2, result.output
    assert "catalogs is a symbolic link in the working tree" in result.stderr


def test_a_catalog_missing_at_base_needs_allow_new_catalog(repo: Repo) -> None:
    repo.git("mv", "controls", "renamed")
    repo.replace(
        UAR.replace("controls/", "renamed/", 1), "frequency: quarterly", "frequency: annual"
    )
    args = ("HEAD", ".", str(repo.path / "renamed"))
    refused = CliRunner().invoke(main, ["diff", *args])
    assert refused.exit_code == 2, refused.output
    assert "renamed: no catalog folder at BASE" in refused.stderr
    assert "--allow-new-catalog" in refused.stderr
    first = CliRunner().invoke(main, ["diff", *args, "--allow-new-catalog"])
    assert first.exit_code == 0, first.output
    out = shown(first)
    assert "### ⚠️ BASE could not be read, so nothing was compared" in out
    assert "First review of a new catalog: renamed does not exist at BASE" in out


def test_a_catalog_missing_at_head_is_an_error(repo: Repo) -> None:
    repo.git("mv", "controls", "renamed")
    repo.commit("moved")
    (repo.path / "controls").mkdir()
    result = repo.diff("HEAD~1", "HEAD")
    assert result.exit_code == 2, result.output
    assert "controls: no catalog folder at HEAD" in result.stderr


# -- the size of the comment ----------------------------------------------------------------


def test_a_huge_change_gives_a_comment_under_the_limit_that_points_to_the_full_report(
    repo: Repo,
) -> None:
    for number in range(400):
        new = f"CHG-NEW-{number:03}"
        repo.write(f"controls/controls/{new}.yaml", CHANGE_CONTROL.replace("CHG-APP-01", new))
    _remove_chg(repo)  # the one change that matters, listed after 400 additions
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert len(out) <= 60_000
    assert out.startswith(MARKER)
    text = shown(result)
    assert "### ❌ This change weakens 1 control" in text
    assert "⛔ **control-removed** (blocking): CHG-APP-01" in text  # kept before additions
    hidden = int(text.split(" more items are not shown")[0].rsplit("> **", 1)[1])
    assert 0 < hidden < 400
    assert "See the full report in the CI job's artifact" in text
    assert f"_… and {hidden} more not shown here: see the full report._" in text
    report = repo.diff_json("HEAD", ".")
    assert sum(c["status"] == "added" for c in report["comparison"]["controls"]) == 400


def test_a_rename_and_key_reordering_is_not_a_change(repo: Repo) -> None:
    text = (repo.path / CHG).read_text()
    lines = text.splitlines(keepends=True)
    (repo.path / CHG).unlink()
    reordered = [*lines[4:6], *lines[:4], *lines[6:]]  # nature/automation first
    repo.write("controls/change-management/chg-app-01.yaml", "".join(reordered))
    repo.commit("move and reorder")
    result = repo.diff("HEAD~1", "HEAD")
    assert result.exit_code == 0, result.output
    assert "No control changes." in shown(result)
    assert "✅ No new findings" in shown(result)
    report = repo.diff_json("HEAD~1", "HEAD")
    assert report["comparison"]["controls"] == []
    assert report["comparison"]["introduced"] == []


def test_an_owner_changed_to_a_team_in_the_working_tree_introduces_own_1(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.replace(
        "controls/people.yaml",
        "  - id: iam-team",
        "  - id: fin-team\n    name: Finance\n    kind: team\n  - id: iam-team",
    )
    repo.replace(UAR, "  - person: j.okafor", "  - person: fin-team")
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(main, ["diff", "HEAD"])
    assert result.exit_code == 1, result.output
    lines = shown(result).splitlines()
    assert lines[0] == "<!-- controlbook-diff -->"
    assert lines[1] == "### ❌ This change introduces 1 high finding"
    assert "#### Findings introduced (1)" in lines
    own = next(line for line in lines if "**OWN-1**" in line)
    assert "owner 'fin-team' is a team" in own
    assert f"({UAR}:13)" in own
    assert (
        "owner on 2026-04-20: j.okafor → fin-team (fin-team is a team, not a named person)"
        in shown(result)
    )


def test_links_point_into_the_catalog_folder_when_repo_url_is_set(repo: Repo) -> None:
    url = "https://git.example.com/acme/itgc/blob/main/controls"
    repo.replace("controls/catalog.yaml", "classification: Internal", f"repo_url: {url}")
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    result = repo.diff("HEAD", ".")
    assert f'<a href="{url}/controls/UAR-APP-01.yaml#L11">{UAR}:11</a>' in result.stdout


def test_a_base_that_cannot_be_read_is_said_and_head_is_judged_alone(repo: Repo) -> None:
    repo.replace("controls/people.yaml", "people:\n", "people:\n  - [broken\n")
    repo.commit("broken people file")
    repo.replace("controls/people.yaml", "  - [broken\n", "")
    repo.replace(
        "controls/people.yaml",
        "  - id: iam-team",
        "  - id: fin-team\n    name: Finance\n    kind: team\n  - id: iam-team",
    )
    repo.replace(UAR, "  - person: j.okafor", "  - person: fin-team")
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 1, result.output
    out = shown(result)
    assert "❌ BASE could not be read, so nothing was compared; HEAD has 1 high finding" in out
    assert "BASE is not a valid catalog: the catalog has 1 error(s)" in out
    assert "controls/people.yaml:" in out
    assert "#### Open findings on HEAD at or above the threshold" in out
    assert "**OWN-1**" in out
    assert "Findings introduced" not in out
    assert tempfile.gettempdir() not in out  # repository paths, never temporary ones
    report = repo.diff_json("HEAD", ".")
    assert report["base"]["readable"] is False
    assert report["comparison"] is None
    assert report["summary"]["introduced"] is None
    assert [f["rule"] for f in report["summary"]["failing"]] == ["OWN-1"]


def test_an_invalid_head_exits_2_with_repository_paths(repo: Repo) -> None:
    repo.replace(UAR, "  - person: j.okafor", "  - person: j.okafr")
    result = repo.diff("HEAD", ".")
    assert result.exit_code == 2
    assert f"{UAR}:13:13: error: person: unknown person 'j.okafr'" in result.stderr


def test_head_as_a_commit_is_read_from_git_not_the_working_tree(repo: Repo) -> None:
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    repo.commit("annual")
    repo.replace(UAR, "frequency: annual", "frequency: [broken")  # uncommitted, ignored
    result = repo.diff("HEAD~1", "HEAD")
    assert result.exit_code == 1, result.output
    assert "frequency: quarterly → annual" in shown(result)


def test_base_defaults_to_the_merge_base_with_main(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.replace(UAR, "executor: iam-team", "executor: m.novak")
    repo.commit("feature: executor")
    repo.git("checkout", "-q", "main")
    repo.replace(CHG, "frequency: event-driven", "frequency: continuous")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(main, ["diff"])
    assert result.exit_code == 0, result.output
    assert "at merge base (" in shown(result)
    assert "executor: iam-team → m.novak" in shown(result)
    assert "event-driven" not in shown(result)  # main's later change is not this branch's


def test_an_unknown_revision_is_a_usage_error(repo: Repo) -> None:
    result = repo.diff("no-such-branch", ".")
    assert result.exit_code == 2
    assert "unknown revision 'no-such-branch'" in result.stderr


def test_sarif_is_valid_and_holds_only_introduced_findings(repo: Repo) -> None:
    # as of 2026-09-30 both sides miss their Q2 reviews (CAD-1): present before, not introduced
    repo.replace(
        "controls/people.yaml",
        "  - id: iam-team",
        "  - id: fin-team\n    name: Finance\n    kind: team\n  - id: iam-team",
    )
    repo.replace(UAR, "  - person: j.okafor", "  - person: fin-team")
    report = repo.diff_json("HEAD", ".", "--as-of", "2026-09-30")
    assert report["head"]["open"] > len(report["comparison"]["introduced"]) == 1
    result = repo.diff("HEAD", ".", "--as-of", "2026-09-30", "--format", "sarif")
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SCHEMA)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["OWN-1"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == UAR
    assert location["region"]["startLine"] == 13


def test_markdown_escapes_catalog_text(repo: Repo) -> None:
    title = "Changes <script>alert(1)</script> | `code` @octocat [x](http://evil)"
    repo.replace(
        CHG,
        "title: Changes to the billing application are approved before release",
        f"title: '{title}'",
    )
    out = repo.diff("HEAD", ".").stdout
    assert "<script>" not in out
    assert "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in out
    assert "&#124;" in out
    assert " | " not in out.split("#### Control changes")[1]
    assert "&#96;code&#96;" in out
    assert "@&#8203;octocat" in out
    assert "@octocat" not in out
    assert "[x](http://evil)" not in out


def test_json_is_versioned(repo: Repo) -> None:
    repo.replace(UAR, "frequency: quarterly", "frequency: annual")
    report = repo.diff_json("HEAD", ".")
    assert (report["format"], report["version"]) == ("controlbook-diff", 1)
    assert report["base"]["commit"] == repo.git("rev-parse", "HEAD").strip()
    assert report["head"] == {"revision": ".", "commit": None, "open": 0, "failing": 0}
    assert report["policy"]["threshold"] == "high"
    [control] = report["comparison"]["controls"]
    assert control["id"] == "UAR-APP-01"
    assert control["status"] == "changed"
    assert control["weakenings"] == ["frequency-weakened"]
    assert control["changes"] == [
        {
            "kind": "frequency",
            "field": "frequency",
            "before": "quarterly",
            "after": "annual",
            "weakening": "frequency-weakened",
            "blocking": True,
            "note": "operates less often",
            "location": {"file": UAR, "line": 11, "column": 12},
        }
    ]
    assert report["summary"]["blocking_controls"] == ["UAR-APP-01"]


def test_the_shipped_integrations_use_real_commands_and_the_comment_marker() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["controlbook-validate", "controlbook-check"]
    for hook in hooks:
        program, command = hook["entry"].split()
        assert (program, hook["language"], hook["pass_filenames"]) == (
            "controlbook",
            "python",
            False,
        )
        assert command in main.commands
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        text = (ROOT / "examples" / "ci" / name).read_text()
        assert "controlbook diff " in text
        assert MARKER in text
