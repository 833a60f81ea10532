"""Documentation that is generated from the code stays in sync with it."""

from __future__ import annotations

from generator.model import FILE_KINDS
from scripts.reference_doc import render_reference
from tests.conftest import ROOT


def test_the_format_reference_is_current() -> None:
    current = (ROOT / "docs" / "catalog-reference.md").read_text(encoding="utf-8")
    assert current == render_reference(), "run `make docs` to regenerate docs/catalog-reference.md"


def test_the_guide_shows_every_file_kind() -> None:
    guide = (ROOT / "docs" / "writing-a-catalog.md").read_text(encoding="utf-8")
    for kind in FILE_KINDS:
        assert f"kind: {kind}" in guide, kind


def test_the_readme_opens_with_exactly_two_quick_start_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make build", "make test"]


def test_every_cli_command_is_in_the_readme() -> None:
    from scripts.reference_doc import command_names

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in command_names():
        assert f"controlbook {name}" in readme, f"document `controlbook {name}` in the README"


def test_the_readme_rule_table_matches_the_registered_rules() -> None:
    from scripts.reference_doc import with_rules_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_rules_table(readme), "run `make docs` to refresh the README rule table"


def test_the_cli_reference_is_current() -> None:
    from scripts.reference_doc import render_cli_reference

    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render_cli_reference(), "run `make docs` to regenerate docs/cli.md"


def test_the_cli_reference_shows_each_usage_line_as_a_user_types_it() -> None:
    from scripts.reference_doc import command_names

    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    usages = [line for line in reference.splitlines() if line.startswith("Usage: ")]
    names = command_names()
    assert len(usages) == len(names) + 1
    for name in names:
        assert any(u.startswith(f"Usage: controlbook {name} [OPTIONS]") for u in usages), name
    assert not [u for u in usages if "controlbook controlbook" in u]
