"""The CI examples in ``examples/ci/``, tested as far as this machine allows.

GitHub Actions and GitLab cannot run here, so the shell each job runs is taken out of the
YAML and run by bash in a real git repository: a catalog on ``main`` and a pull request
that weakens a control. ``controlbook`` comes from the suite's environment; the install
steps are checked for syntax and for installing from the lock at a pinned revision.
"""

from __future__ import annotations

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
