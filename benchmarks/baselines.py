"""The floors each stage is compared with: the same work done by the bare tool.

- WeasyPrint alone, in a fresh process with Python's default collector, on the
  narratives' HTML (same PDF variant, no attachments, no signature);
- ``mkdocs build`` alone, in a subprocess, on the generated Markdown and navigation;
- the SoD conflict query written directly in DuckDB SQL over the current extracts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from generator.model import EXTRACT_COLUMNS, Catalog
from generator.render.pdf import PDF_VARIANT


def weasyprint_alone(
    html_files: list[Path], base_url: str, out_dir: Path
) -> tuple[list[Path], float]:
    """Render every HTML file to PDF with WeasyPrint, one after the other, in a fresh
    interpreter with Python's own collector settings (as a script that only calls
    WeasyPrint runs: this process holds the catalog and runs with the CLI's settings, see
    :mod:`generator.catalog.gctune`). Returns the PDFs and the seconds of the rendering
    loop alone: the interpreter's start and WeasyPrint's import are left out, as ours is
    measured in a process that has paid both."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", __name__, base_url, str(out_dir), *map(str, html_files)]
    root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=root)
    return [out_dir / f"{path.stem}.pdf" for path in html_files], float(done.stdout.split()[-1])


def _render_all(html_files: list[Path], base_url: str, out_dir: Path) -> float:
    """The baseline's loop (in the fresh interpreter); returns its seconds."""
    from weasyprint import HTML

    started = time.perf_counter()
    for path in html_files:
        target = out_dir / f"{path.stem}.pdf"
        HTML(filename=str(path), base_url=base_url).write_pdf(target, pdf_variant=PDF_VARIANT)
    return time.perf_counter() - started


def mkdocs_alone(base_config: Path, docs: Path, site: Path, nav: list[Any], epoch: int) -> None:
    """``mkdocs build --strict`` on ``docs`` with our theme, plugins and navigation."""
    config = docs.parent / "mkdocs-baseline.yml"
    settings = {
        "INHERIT": str(base_config),
        "docs_dir": str(docs),
        "site_dir": str(site),
        "nav": nav,
    }
    config.write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config)],
        check=True,
        env=env,
    )


def sod_sql(catalog: Catalog, files: dict[str, Path]) -> int:
    """The conflict query in plain DuckDB SQL over ``files`` (system -> current extract);
    returns the number of (person, rule set, conflict) rows it finds."""
    grants = [
        (rs.id, duty.id, g.system, g.entitlement)
        for rs in catalog.rulesets.values()
        for duty in rs.duties
        for g in duty.grants
    ]
    pairs = [(rs.id, *sorted(c.duties)) for rs in catalog.rulesets.values() for c in rs.conflicts]
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in EXTRACT_COLUMNS)
    paths = ", ".join(f"'{p}'" for p in files.values())
    systems = " UNION ALL ".join(f"SELECT '{s}' AS system, '{p}' AS path" for s, p in files.items())
    query = f"""
        WITH files AS ({systems}),
        grants(ruleset, duty, system, entitlement) AS (VALUES {_values(grants)}),
        conflicts(ruleset, a, b) AS (VALUES {_values(pairs)}),
        held AS (
            SELECT DISTINCT r.person, g.ruleset, g.duty
            FROM read_csv([{paths}], header = true, columns = {{{columns}}}, filename = true) r
            JOIN files f ON f.path = r.filename
            JOIN grants g ON g.system = f.system AND g.entitlement = r.entitlement
            WHERE coalesce(r.person, '') <> ''
        )
        SELECT h1.person, c.ruleset, c.a, c.b
        FROM conflicts c
        JOIN held h1 ON h1.ruleset = c.ruleset AND h1.duty = c.a
        JOIN held h2 ON h2.ruleset = c.ruleset AND h2.duty = c.b AND h2.person = h1.person
        ORDER BY 1, 2, 3, 4
    """
    db = duckdb.connect()
    try:
        return len(db.execute(query).fetchall())
    finally:
        db.close()


def _values(rows: list[tuple[str, ...]]) -> str:
    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


if __name__ == "__main__":  # the WeasyPrint baseline: BASE_URL OUT_DIR HTML...
    import weasyprint  # noqa: F401  (imported before the clock starts)

    print(f"{_render_all([Path(p) for p in sys.argv[3:]], sys.argv[1], Path(sys.argv[2])):.6f}")
