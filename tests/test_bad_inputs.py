"""The bad-input corpus: every broken or hostile catalog file ends in a clear message.

Each file in ``tests/bad_inputs/`` is dropped into a copy of the starter catalog and
``controlbook validate`` runs as a user would run it. The file's first line says
what must happen: ``# expect: <exit code> <message>``, where ``{file}`` stands for
the file's path. Never a traceback, never a hang (each run has a time limit).
"""

from __future__ import annotations

import csv
import os
import socket
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


# -- security review, issue 15: crashes, hangs and injection through the catalog ------------


def test_the_corpus_covers_the_cases_of_issue_15() -> None:
    names = {p.stem for p in CASES}
    assert names >= {
        "control-character", "control-character-escape", "date-year-one", "date-year-9999",
        "timestamp-year-9999", "day-count-huge", "period-too-long", "id-bidi-override",
        "slug-collision", "slug-reserved",
    }  # fmt: skip


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The run's output, checked to be a data error (exit 2) without a traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "internal error" not in output
    return output


def test_a_loop_of_yaml_links_is_a_data_error(starter: CatalogDir) -> None:
    (starter.path / "a.yaml").symlink_to("b.yaml")
    (starter.path / "b.yaml").symlink_to("a.yaml")
    output = one_error(controlbook("validate", str(starter.path)))
    for name in ("a.yaml", "b.yaml"):
        assert f"{starter.path.as_posix()}/{name}: error: is a loop of symbolic links" in output


def test_a_dangling_yaml_link_is_a_data_error(starter: CatalogDir) -> None:
    (starter.path / "gone.yaml").symlink_to("nowhere.yaml")
    output = one_error(controlbook("validate", str(starter.path)))
    assert "gone.yaml: error: is a link to a file that does not exist; it is not read" in output


def test_a_loop_of_extract_links_is_missing_evidence_not_a_crash(starter: CatalogDir) -> None:
    extract = starter.path / "extracts" / "app-2026-03-31.csv"
    extract.unlink()
    extract.symlink_to("loop.csv")
    (starter.path / "extracts" / "loop.csv").symlink_to(extract.name)
    result = controlbook("check", str(starter.path))
    assert result.returncode == 1, result.stderr
    assert "ERR-1" not in result.stdout
    assert "Symlink loop" not in result.stdout
    assert "evidence file extracts/app-2026-03-31.csv is missing" in result.stdout


def test_a_named_pipe_called_yaml_is_refused_without_waiting(starter: CatalogDir) -> None:
    pipe = starter.path / "x.yaml"
    os.mkfifo(pipe)
    output = one_error(controlbook("validate", str(starter.path), timeout=20))
    assert f"{pipe.as_posix()}: error: is a named pipe (FIFO), not a regular file" in output


def test_a_socket_called_yaml_is_refused(starter: CatalogDir) -> None:
    path = starter.path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        output = one_error(controlbook("validate", str(starter.path), timeout=20))
    assert f"{path.as_posix()}: error: is a socket, not a regular file" in output


def test_a_named_pipe_as_extract_is_missing_evidence_without_waiting(starter: CatalogDir) -> None:
    extract = starter.path / "extracts" / "app-2026-03-31.csv"
    extract.unlink()
    os.mkfifo(extract)
    result = controlbook("check", str(starter.path), timeout=20)
    assert result.returncode == 1, result.stderr
    assert "evidence file extracts/app-2026-03-31.csv is missing" in result.stdout


def test_a_file_name_with_invisible_characters_is_refused(starter: CatalogDir) -> None:
    (starter.path / "people-\u202egpj.yaml").write_text("kind: people\npeople: []\n")
    output = one_error(controlbook("validate", str(starter.path)))
    assert (
        "people-\\u202egpj.yaml: error: the file name contains RIGHT-TO-LEFT OVERRIDE; "
        "rename the file"
    ) in output


SETTINGS = "catalog.yaml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "review_due_days: 30",
            "review_due_days: 99999999999",
            ":15:18: error: review_due_days: input should be less than or equal to 3660 "
            "(got 99999999999)",
        ),
        (
            "  end: 2026-12-31",
            "  end: 9999-12-31",
            ":8:8: error: period.end: 9999-12-31 is outside the supported dates "
            "(1970-01-01 to 2099-12-31)",
        ),
        (
            "  start: 2026-01-01",
            "  start: 0001-01-01",
            ":7:10: error: period.start: 0001-01-01 is outside the supported dates "
            "(1970-01-01 to 2099-12-31)",
        ),
        (
            "  start: 2026-01-01",
            "  start: 2001-01-01",
            ":8:8: error: period.end: the period 2001-01-01 to 2026-12-31 spans 9,496 days; "
            "a period is at most ten years",
        ),
        (
            "max_exception_days: 180",
            "max_exception_days: 1.0e+38",
            ":12:21: error: max_exception_days: unable to parse input string as an integer, "
            "exceeded maximum size (got 1e+38)",
        ),
    ],
    ids=["due-days-huge", "end-9999", "start-year-one", "period-25-years", "exception-days-1e38"],
)
def test_settings_numbers_and_dates_are_bounded(
    starter: CatalogDir, old: str, new: str, message: str
) -> None:
    starter.replace(SETTINGS, old, new)
    output = one_error(controlbook("check", str(starter.path), timeout=60))
    assert f"{starter.path.as_posix()}/{SETTINGS}{message}" in output
    assert "no settings file" not in output  # the settings file is there, only invalid


def test_an_as_of_in_year_9999_stops_the_build_before_it_starts(
    starter: CatalogDir, tmp_path: Path
) -> None:
    starter.replace(SETTINGS, "as_of: 2026-05-15", "as_of: 9999-12-31")
    out = tmp_path / "site"
    output = one_error(controlbook("build", str(starter.path), "--out", str(out), "--no-pdf"))
    assert (
        f"{starter.path.as_posix()}/{SETTINGS}:9:8: error: as_of: 9999-12-31 is outside the "
        "supported dates (1970-01-01 to 2099-12-31)"
    ) in output
    assert not out.exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_as_of_option_outside_the_dates_is_a_usage_error(starter: CatalogDir, day: str) -> None:
    output = one_error(controlbook("check", str(starter.path), "--as-of", day))
    assert f"{day} is outside the supported dates (1970-01-01 to 2099-12-31)" in output


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "repo_url",
            '"https://git.example/x\\n\\n![x](https://h/x.png){:onerror=alert(1)}"',
            "error: repo_url: a URL cannot contain spaces, line breaks or control characters "
            "(found U+000A LINE FEED)",
        ),
        (
            "repo_url",
            '"https://git.example/x\\"onmouseover=\\"alert(1)"',
            "error: repo_url: '\"' is not allowed in a URL; percent-encode it",
        ),
        (
            "repo_url",
            "javascript:alert(1)//git.example",
            "error: repo_url: 'javascript:alert(1)//git.example' is not a web address: "
            "write https://host/path",
        ),
        (
            "timestamp_url",
            "file:///etc/passwd",
            "error: timestamp_url: 'file:///etc/passwd' is not a web address",
        ),
        (
            "timestamp_url",
            "https://",
            "error: timestamp_url: 'https://' is not a web address",
        ),
    ],
    ids=["markdown-injection", "attribute-breakout", "javascript", "file-scheme", "no-host"],
)
def test_url_settings_must_be_plain_web_addresses(
    starter: CatalogDir, setting: str, value: str, message: str
) -> None:
    starter.replace(
        SETTINGS, "classification: Internal", f"classification: Internal\n{setting}: {value}"
    )
    output = one_error(controlbook("validate", str(starter.path)))
    assert f"{starter.path.as_posix()}/{SETTINGS}:18:" in output
    assert message in output
