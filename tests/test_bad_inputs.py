"""The bad-input corpus: every broken or hostile catalog file ends in a clear message.

Each file in ``tests/bad_inputs/`` is dropped into a copy of the starter catalog and
``controlbook validate`` runs as a user would run it. The file's first line says
what must happen: ``# expect: <exit code> <message>``, where ``{file}`` stands for
the file's path. Never a traceback, never a hang (each run has a time limit).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, CatalogDir

CORPUS = ROOT / "tests" / "bad_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))


def controlbook(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def expectation(path: Path) -> tuple[int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), (
        f"{path.name} must start with '# expect: <code> <message>'"
    )
    code, message = first.removeprefix("# expect: ").split(" ", 1)
    return int(code), message


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_corpus_file_gives_a_clear_message(case: Path, starter: CatalogDir) -> None:
    code, message = expectation(case)
    target = starter.path / "bad" / case.name
    target.parent.mkdir()
    target.write_bytes(case.read_bytes())
    result = controlbook("validate", str(starter.path))
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == code, output
    assert message.format(file=target.as_posix(), catalog=starter.path.as_posix()) in output
    assert not Path("/tmp/controlbook-pwned").exists()


def test_a_file_that_is_not_utf8(starter: CatalogDir) -> None:
    bad = starter.path / "latin1.yaml"
    bad.write_bytes("kind: people\npeople:\n  - {id: x, name: José}\n".encode("latin-1"))
    result = controlbook("validate", str(starter.path))
    assert result.returncode == 2
    assert (
        f"{bad.as_posix()}:3:22: error: the file is not UTF-8 text (save it as UTF-8)"
        in result.stderr
    )


def test_a_byte_order_mark_is_fine(starter: CatalogDir) -> None:
    (starter.path / "bom.yaml").write_bytes(b"\xef\xbb\xbfkind: people\npeople: []\n")
    assert controlbook("validate", str(starter.path)).returncode == 0


def test_a_50_mb_file_is_refused_without_reading_it(starter: CatalogDir) -> None:
    big = starter.path / "huge.yaml"
    with big.open("wb") as handle:
        handle.write(b"kind: people\npeople:\n")
        handle.truncate(50 * 1024 * 1024)
    result = controlbook("validate", str(starter.path), timeout=10)
    assert result.returncode == 2
    assert (
        f"{big.as_posix()}:1:1: error: file is 52,428,800 bytes; the limit is 20 MiB"
        in result.stderr
    )


def test_a_yaml_link_leaving_the_catalog_is_not_read(starter: CatalogDir, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: people\npeople: [{id: intruder, name: Intruder}]\n")
    (starter.path / "linked.yaml").symlink_to(outside)
    result = controlbook("validate", str(starter.path))
    assert result.returncode == 2
    assert (
        "linked.yaml: error: is a link to a file outside the catalog folder; it is not read"
        in result.stderr
    )


def test_evidence_linked_outside_the_catalog_is_not_read(
    starter: CatalogDir, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("account,person,account_type,entitlement\n")
    extract = starter.path / "extracts" / "app-2026-03-31.csv"
    extract.unlink()
    extract.symlink_to(outside)
    result = controlbook("check", str(starter.path), "--format", "json")
    assert result.returncode == 1
    assert (
        "extracts/app-2026-03-31.csv leads outside the catalog folder (a link?) and was not read"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "account,person,type,entitlement\nskim,s.kim,employee,X\n",
            ":1:1: extract header must be 'account,person,account_type,entitlement'",
        ),
        (
            "account,person,account_type,entitlement\nskim,s.kim,employee\n",
            ":2:1: expected 4 fields, got 3",
        ),
        (
            "account,person,account_type,entitlement\nskim,s.kim,robot,X\n",
            ":2:1: unknown account_type 'robot'",
        ),
        (
            b"account,person,account_type,entitlement\nsk\xefm,s.kim,employee,X\n",
            ": the extract is not UTF-8 text",
        ),
    ],
    ids=["wrong-header", "ragged-row", "unknown-type", "not-utf8"],
)
def test_malformed_extracts_are_data_errors(
    starter: CatalogDir, data: str | bytes, message: str
) -> None:
    extract = starter.path / "extracts" / "app-2026-03-31.csv"
    extract.write_bytes(data if isinstance(data, bytes) else data.encode())
    result = controlbook("check", str(starter.path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{extract.as_posix()}{message}" in result.stderr


def test_a_missing_extract_is_a_finding_not_a_crash(starter: CatalogDir) -> None:
    (starter.path / "extracts" / "app-2026-03-31.csv").unlink()
    result = controlbook("check", str(starter.path))
    assert result.returncode == 1
    assert "EVD-2" in result.stdout
    assert "evidence file extracts/app-2026-03-31.csv is missing" in result.stdout


def test_formula_cells_are_neutralised_in_exported_csv(starter: CatalogDir) -> None:
    extract = starter.path / "extracts" / "app-2026-03-31.csv"
    extract.write_text(
        extract.read_text() + '"=HYPERLINK(""http://evil.example"",""x"")",s.kim,employee,X\n'
    )
    result = controlbook("check", str(starter.path), "--format", "csv")
    rows = [line for line in result.stdout.splitlines() if "HYPERLINK" in line]
    assert rows, result.stdout
    for row in rows:
        cells = next(csv.reader([row]))
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), row


def test_the_corpus_covers_the_yaml_cases_of_the_issue() -> None:
    names = {p.stem for p in CASES}
    assert names >= {
        "syntax-error", "tab-indent", "wrong-type", "unknown-key", "duplicate-key", "duplicate-id",
        "empty", "python-tag", "alias-bomb", "deep-nesting", "dangling-person", "dangling-system",
        "dangling-control", "manager-cycle", "dates-wrong-order", "path-dotdot", "path-absolute",
    }  # fmt: skip
