"""Regenerate the documentation that is derived from the code (`make docs`)."""

from pathlib import Path

from scripts.reference_doc import render_cli_reference, render_reference, with_rules_table

ROOT = Path(__file__).resolve().parents[1]

(ROOT / "docs" / "catalog-reference.md").write_text(render_reference(), encoding="utf-8")
(ROOT / "docs" / "cli.md").write_text(render_cli_reference(), encoding="utf-8")
readme = ROOT / "README.md"
readme.write_text(with_rules_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
