"""Evidence that must not change the verdict (security review, issue 15).

Each case edits the example catalog's current SAP extract the way the review did, and
records the new sha256 and row count so that nothing else looks wrong. Before the fix,
each of them made the critical SOD-3 finding on b.kowalski disappear.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.evidence.extracts import ExtractError
from tests.conftest import EXAMPLE

CURRENT = "extracts/erp/2026-09-15.csv"


def tamper(tmp_path: Path, rewrite) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the example whose current SAP extract is ``rewrite(text)``, with its
    recorded sha256 and records updated to match."""
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root)
    extract = root / CURRENT
    data = rewrite(extract.read_bytes().decode("utf-8")).encode("utf-8")
    extract.write_bytes(data)
    rows = len([line for line in data.decode().splitlines() if line.strip()]) - 1
    systems = root / "systems.yaml"
    text = systems.read_text(encoding="utf-8")
    block = re.search(rf"file: {re.escape(CURRENT)}\n(?:.*\n)*?.*sha256: \w+", text)
    assert block is not None
    edited = re.sub(r"records: \d+", f"records: {rows}", block.group())
    edited = re.sub(r"sha256: \w+", f"sha256: {hashlib.sha256(data).hexdigest()}", edited)
    systems.write_text(text.replace(block.group(), edited), encoding="utf-8")
    return root


def sod3_subjects(root: Path) -> set[str]:
    evaluation = evaluate(load_catalog(root))
    assert not [f for f in evaluation.findings if f.rule == "EVD-2" and CURRENT in f.subject]
    return {f.subject for f in evaluation.findings if f.rule == "SOD-3"}


def test_the_untouched_example_has_the_conflict() -> None:
    assert sod3_subjects(EXAMPLE) == {"b.kowalski"}


def test_crlf_line_endings_in_one_extract_hide_nothing(tmp_path: Path) -> None:
    root = tamper(tmp_path, lambda text: text.replace("\n", "\r\n"))
    assert sod3_subjects(root) == {"b.kowalski"}


def test_mixed_line_endings_in_one_extract_hide_nothing(tmp_path: Path) -> None:
    """One CRLF line among LF lines (an extract edited in another tool): DuckDB's reader
    takes the file's newline from its first lines and fails on the other kind, so such a
    file is read by the exact Python reader, as Python's ``csv`` reads it."""
    line = "BKOWALSKI,b.kowalski,employee,Z_P2P_VENDOR_MAINT"
    root = tamper(tmp_path, lambda text: text.replace(f"{line}\n", f"{line}\r\n"))
    assert b"\r\n" in (root / CURRENT).read_bytes()
    assert sod3_subjects(root) == {"b.kowalski"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "BKOWALSKI,b.kowalski,employee,Z_P2P_VENDOR_MAINT",
            "BKOWALSKI,b.kowalski ,employee,Z_P2P_VENDOR_MAINT",
        ),
        (
            "BKOWALSKI,b.kowalski,employee,Z_P2P_VENDOR_MAINT",
            "BKOWALSKI,b.kowalski,employee,\tZ_P2P_VENDOR_MAINT",
        ),
        (
            "BKOWALSKI,b.kowalski,employee,Z_P2P_VENDOR_MAINT",
            "BKOWALSKI,B.Kowalski,employee,Z_P2P_VENDOR_MAINT",
        ),
        (
            "BKOWALSKI,b.kowalski,employee,Z_P2P_VENDOR_MAINT",
            "BKOWALSKI,b.kowalski,employee,z_p2p_vendor_maint",
        ),
    ],
    ids=["trailing-space", "leading-tab", "person-case", "entitlement-case"],
)
def test_spaces_and_case_hide_nothing(tmp_path: Path, old: str, new: str) -> None:
    root = tamper(tmp_path, lambda text: text.replace(old, new))
    assert sod3_subjects(root) == {"b.kowalski"}


def test_a_person_the_directory_does_not_know_is_an_orphan_not_silence(tmp_path: Path) -> None:
    root = tamper(tmp_path, lambda text: text.replace(",b.kowalski,", ",ghost.user,"))
    evaluation = evaluate(load_catalog(root))
    orphans = [f for f in evaluation.findings if f.rule == "ORP-1"]
    assert [f.subject for f in orphans] == ["erp:ghost.user"]
    assert orphans[0].location.line == 7
    assert {f.subject for f in evaluation.findings if f.rule == "SOD-3"} == {"ghost.user"}


def test_an_invisible_character_after_an_id_is_a_data_error_with_its_line(
    tmp_path: Path,
) -> None:
    root = tamper(
        tmp_path, lambda text: text.replace("BKOWALSKI,b.kowalski,", "BKOWALSKI,b.kowalski\u200b,")
    )
    with pytest.raises(ExtractError, match=r"2026-09-15\.csv:7:1: person .* ZERO WIDTH SPACE"):
        evaluate(load_catalog(root))
