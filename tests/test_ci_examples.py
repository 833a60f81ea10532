"""The CI examples in ``examples/ci/``, tested as far as this machine allows.

GitHub Actions and GitLab cannot run here, so the shell each job runs is taken out of the
YAML and run by bash in a real git repository: a catalog on ``main`` and a pull request
that weakens a control. ``controlbook`` comes from the suite's environment; the install
steps are checked for syntax and for installing from the lock at a pinned revision.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GITHUB = yaml.safe_load((REPO / "examples" / "ci" / "github-actions.yml").read_text())
GITLAB = yaml.safe_load((REPO / "examples" / "ci" / "gitlab-ci.yml").read_text())[
    "controlbook-review"
]

pytestmark = pytest.mark.slow


def github_step(name_start: str) -> dict:
    (step,) = [
        s for s in GITHUB["jobs"]["review"]["steps"] if s.get("name", "").startswith(name_start)
    ]
    return step


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A catalog repository: ``main`` with the example catalog, checked out on a branch
    that makes ITGC-UAR-ERP annual (a blocking weakening)."""
    repo = tmp_path / "catalog-repo"
    shutil.copytree(REPO / "controls", repo / "controls")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "catalog")
    git(repo, "checkout", "-q", "-b", "weaken")
    control = repo / "controls" / "controls" / "ITGC-UAR-ERP.yaml"
    control.write_text(control.read_text().replace("frequency: quarterly", "frequency: annual", 1))
    git(repo, "commit", "-qam", "review ERP access once a year")
    return repo


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_every_shell_step_is_valid_bash() -> None:
    scripts = [s["run"] for s in GITHUB["jobs"]["review"]["steps"] if "run" in s]
    scripts += GITLAB["before_script"] + GITLAB["script"]
    for script in scripts:
        checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script}\n{checked.stderr}"


def test_the_workflow_runs_on_catalog_changes_with_the_permissions_it_needs() -> None:
    assert GITHUB[True]["pull_request"]["paths"] == ["controls/**"]  # YAML 1.1 reads "on" as True
    assert GITHUB["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "security-events": "write",
    }
    checkout = GITHUB["jobs"]["review"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # BASE is read from git history


def test_both_examples_install_a_pinned_revision_from_its_lock() -> None:
    install = github_step("Install Controlbook")["run"]
    for text, env in (
        (install, GITHUB["env"]),
        ("\n".join(GITLAB["before_script"]), GITLAB["variables"]),
    ):
        assert 'checkout --quiet "$CONTROLBOOK_REF"' in text
        assert "requirements.lock" in text
        assert env["CONTROLBOOK_REF"]
        assert env["CONTROLBOOK_GIT"]
        assert "controlbook==" not in text  # no such release on the package index


def test_the_github_review_step_fails_a_weakening_and_writes_the_comment_and_sarif(
    pull_request: Path, tmp_path: Path
) -> None:
    output = tmp_path / "github-output"
    env = {"CATALOG": "controls", "BASE": "main", "GITHUB_OUTPUT": str(output)}
    result = bash(github_step("Review the change")["run"], pull_request, env)
    assert result.returncode == 0, result.stderr  # the step records the code; the last step fails
    assert output.read_text() == "exit_code=1\n"
    comment = (pull_request / "controlbook-comment.md").read_text()
    assert comment.startswith("<!-- controlbook-diff -->")
    assert "weakens 1 control" in comment
    assert '"version": "2.1.0"' in (pull_request / "controlbook.sarif").read_text()
    full = json.loads((pull_request / "controlbook-diff.json").read_text())
    assert (full["format"], full["summary"]["exit_code"]) == ("controlbook-diff", 1)

    gate = github_step("Fail on new findings")
    assert gate["if"] == "steps.diff.outputs.exit_code != '0'"


def test_the_gitlab_job_fails_a_weakening(pull_request: Path, tmp_path: Path) -> None:
    # Posting the note needs GitLab's API, so that branch is switched off here; the rest
    # of the job runs as written.
    script = "\n".join(GITLAB["script"])
    script = script.replace("if [ -f controlbook-comment.md ]; then", "if false; then", 1)
    env = {"CATALOG": "controls", "CI_MERGE_REQUEST_DIFF_BASE_SHA": "main"}
    result = bash(script, pull_request, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "controlbook diff exited with 1" in result.stdout
    assert "weakens 1 control" in (pull_request / "controlbook-comment.md").read_text()


def _make_catalog_a_symlink(repo: Path) -> None:
    """The pull request moves the catalog and leaves ``controls`` as a link to it."""
    git(repo, "mv", "controls", "renamed")
    (repo / "controls").symlink_to("renamed", target_is_directory=True)
    git(repo, "add", "controls")
    git(repo, "commit", "-qm", "move the catalog")


def test_the_github_review_step_writes_a_failing_comment_when_the_review_cannot_run(
    pull_request: Path, tmp_path: Path
) -> None:
    _make_catalog_a_symlink(pull_request)
    output = tmp_path / "github-output"
    env = {"CATALOG": "controls", "BASE": "main", "GITHUB_OUTPUT": str(output)}
    result = bash(github_step("Review the change")["run"], pull_request, env)
    assert result.returncode == 0, result.stderr
    assert output.read_text() == "exit_code=2\n"
    assert "controls is a symbolic link" in result.stderr
    comment = (pull_request / "controlbook-comment.md").read_text()
    assert comment.startswith("<!-- controlbook-diff -->\n")
    assert "### ❌ controlbook diff could not review this change (exit 2)" in comment


def test_the_comment_step_runs_after_any_failure_and_the_full_reports_are_kept() -> None:
    steps = GITHUB["jobs"]["review"]["steps"]
    names = [s.get("name", "") for s in steps]
    comment = github_step("Post or update the review comment")
    assert comment["if"] == "always()"  # no other condition, such as the file existing
    artifact = github_step("Upload the full reports")
    assert artifact["uses"].startswith("actions/upload-artifact@")
    assert artifact["if"] == "always()"
    assert artifact["with"]["path"].split() == [
        "controlbook-comment.md",
        "controlbook-diff.json",
        "controlbook.sarif",
    ]
    gate = names.index(next(n for n in names if n.startswith("Fail on new findings")))
    assert names.index(comment["name"]) < gate
    assert names.index(artifact["name"]) < gate
    assert "controlbook-diff.json" in GITLAB["artifacts"]["paths"]
    assert GITLAB["artifacts"]["when"] == "always"


COMMENT_HARNESS = """
const calls = [];
const marker = "<!-- controlbook-diff -->";
const github = {
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (args) => calls.push(["update", args]),
    createComment: async (args) => calls.push(["create", args]),
  } },
  paginate: async () => [
    { id: 1, user: { type: "User" }, body: "looks good to me" },
    { id: 7, user: { type: "Bot" }, body: marker + "\\n### ✅ No new findings" },
  ],
};
const context = { repo: { owner: "acme", repo: "itgc" }, issue: { number: 12 } };
(async () => {
SCRIPT
})().then(() => console.log(JSON.stringify(calls)));
"""


def run_comment_script(cwd: Path) -> list[list]:
    """The comment step's script, run by node against a stand-in for GitHub's client."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    script = github_step("Post or update the review comment")["with"]["script"]
    harness = COMMENT_HARNESS.replace("SCRIPT", script)
    done = subprocess.run(
        ["node", "-e", harness], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_the_comment_script_replaces_a_stale_comment_even_without_a_review(
    tmp_path: Path,
) -> None:
    [(call, args)] = run_comment_script(tmp_path)  # no controlbook-comment.md: install failed
    assert (call, args["comment_id"]) == ("update", 7)
    assert args["body"].startswith("<!-- controlbook-diff -->\n### ❌ controlbook did not run")


def test_the_comment_script_keeps_an_oversized_comment_under_githubs_limit(
    tmp_path: Path,
) -> None:
    huge = "<!-- controlbook-diff -->\n### ❌ This change weakens 1 control\n" + "x" * 70_000
    (tmp_path / "controlbook-comment.md").write_text(huge)
    [(call, args)] = run_comment_script(tmp_path)
    assert call == "update"
    assert len(args["body"]) <= 65_536
    assert args["body"].startswith("<!-- controlbook-diff -->\n### ❌")
    assert args["body"].endswith("see the full report in the job's artifact.\n")


def test_the_gitlab_job_writes_a_failing_note_when_the_review_cannot_run(
    pull_request: Path,
) -> None:
    _make_catalog_a_symlink(pull_request)
    script = "\n".join(GITLAB["script"])
    script = script.replace("if [ -f controlbook-comment.md ]; then", "if false; then", 1)
    env = {"CATALOG": "controls", "CI_MERGE_REQUEST_DIFF_BASE_SHA": "main"}
    result = bash(script, pull_request, env)
    assert result.returncode == 2, result.stdout + result.stderr
    comment = (pull_request / "controlbook-comment.md").read_text()
    assert "### ❌ controlbook diff could not review this change (exit 2)" in comment
