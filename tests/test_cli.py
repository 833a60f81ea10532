"""The command line: exit codes, messages on stderr, and never a traceback for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import EXAMPLE, CatalogDir


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], capture_output=True, text=True, check=False
    )


def test_validate_accepts_a_valid_catalog(starter: CatalogDir) -> None:
    result = CliRunner().invoke(main, ["validate", str(starter.path)])
    assert result.exit_code == 0, result.output
    assert (
        "valid (1 controls, 1 reviews, 5 people, 1 systems; 0 error(s), 0 warning(s))"
        in result.output
    )


def test_validate_exits_2_with_compiler_style_messages_and_no_traceback(
    starter: CatalogDir,
) -> None:
    starter.replace("controls/UAR-APP-01.yaml", "  - person: j.okafor", "  - person: j.okafr")
    result = run("validate", str(starter.path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        f"{starter.path.as_posix()}/controls/UAR-APP-01.yaml:13:13: error: person: "
        "unknown person 'j.okafr'; did you mean 'j.okafor'?" in result.stderr
    )
    assert "    ^" in result.stderr  # the source line with a caret under the value
    assert "controlbook: catalog is invalid: 1 error(s), 0 warning(s)" in result.stderr


def test_warnings_pass_unless_strict(starter: CatalogDir) -> None:
    starter.replace("catalog.yaml", "fail_on: high", "fail_on: high\ncolour: blue")
    assert run("validate", str(starter.path)).returncode == 0
    strict = run("validate", "--strict", str(starter.path))
    assert strict.returncode == 2
    assert "error: unknown key 'colour'" in strict.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing", "no such catalog folder"),
        (lambda p: (p / "file.yaml").write_text("x: 1") and p / "file.yaml", "not a file"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no YAML files here"),
    ],
    ids=["missing-folder", "a-file-not-a-folder", "empty-folder"],
)
def test_unusable_catalog_paths(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", str(setup(tmp_path)))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_schema_prints_a_json_schema_per_file_kind() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    kinds = sorted(schema["discriminator"]["mapping"])
    assert kinds == sorted(
        ["settings", "people", "systems", "control", "review", "sod-ruleset",
         "sod-exceptions", "break-glass-log", "nhi-inventory", "waivers"]
    )  # fmt: skip


def test_init_writes_a_catalog_that_validates_strictly(tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "controlbook.schema.json").exists()
    assert run("validate", "--strict", str(target)).returncode == 0


def test_init_refuses_to_overwrite_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run("init", str(tmp_path))
    assert result.returncode == 2
    assert "folder is not empty (use --force to write into it)" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_example_catalog_validates_clean() -> None:
    result = run("validate", "--strict", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


def test_python_dash_m_and_the_console_script_agree() -> None:
    script = Path(sys.executable).with_name("controlbook")
    via_script = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert via_script.stdout == run("--version").stdout
