"""Registering an imported extract edits the systems file as text: the new entry goes at
the end of the system's ``extracts:`` (made when missing), and every other byte, comment
and blank line stays; a layout it cannot edit safely is refused with the entry to add."""

from __future__ import annotations

from typing import Any

import pytest

from generator.catalog.yamlsrc import parse_yaml
from generator.errors import InputError
from generator.evidence.importers.register import RegistrationError, _register

RECORD: dict[str, Any] = {
    "file": "extracts/aws/2026-09-20-aws-credential-report.csv",
    "kind": "accounts",
    "scope": ["service"],
    "source": "AWS IAM credential report: account #1",
    "extracted_at": "2026-09-20T08:15:02Z",
    "records": 3,
    "sha256": "a" * 64,
    "derived_from": {
        "importer": "aws-credential-report/1",
        "raw": [
            {"file": "evidence/raw/aws/2026-09-20-aws-credential-report.json", "sha256": "b" * 64}
        ],
    },
}

ENTRY = """\
      - file: extracts/aws/2026-09-20-aws-credential-report.csv
        kind: accounts
        scope: [service]
        source: "AWS IAM credential report: account #1"
        extracted_at: 2026-09-20T08:15:02Z
        records: 3
        sha256: {a}
        derived_from:
          importer: aws-credential-report/1
          raw:
            - file: evidence/raw/aws/2026-09-20-aws-credential-report.json
              sha256: {b}
""".format(a="a" * 64, b="b" * 64)


def register(text: str, system: str = "aws") -> tuple[str, int]:
    edit = _register(text.encode(), "systems.yaml", system, RECORD)
    assert edit.new is not None
    return edit.new.decode(), edit.line


def test_appended_after_the_last_extract_and_before_the_next_systems_comment() -> None:
    text = """\
kind: systems   # the systems
systems:
  - id: aws
    name: AWS
    sox_in_scope: true
    extracts:
      - file: extracts/aws/old.csv
        source: >-
          a folded source
          over two lines
        # checked by IAM

  # the next system
  - id: erp
    name: ERP
    sox_in_scope: true
"""
    new, line = register(text)
    head, tail = text.split("\n\n  # the next system\n")
    assert new == head + "\n" + ENTRY + "\n  # the next system\n" + tail
    assert line == 12
    assert new.splitlines()[line - 1].lstrip().startswith("- file: extracts/aws/2026-09-20")


def test_a_system_without_extracts_gets_the_key() -> None:
    text = "kind: systems\nsystems:\n- id: erp\n  name: ERP\n  sox_in_scope: true\n- id: aws\n  name: AWS\n  sox_in_scope: false"
    new, line = register(text)
    assert new.startswith(text + "\n  extracts:\n    - file: extracts/aws/2026-09-20")
    assert parse_yaml(new).data["systems"][1]["extracts"][0]["records"] == 3
    assert line == 10


def test_an_empty_flow_list_keeps_its_comment() -> None:
    text = "kind: systems\nsystems:\n  - id: aws\n    name: AWS\n    sox_in_scope: true\n    extracts: []  # none yet\n"
    new, _ = register(text)
    assert "    extracts:  # none yet\n      - file: extracts/aws/" in new
    assert len(parse_yaml(new).data["systems"][0]["extracts"]) == 1


def test_windows_line_ends_and_a_byte_order_mark_stay() -> None:
    text = "kind: systems\nsystems:\n  - id: aws\n    name: AWS\n    sox_in_scope: true\n"
    edit = _register(
        ("\ufeff" + text.replace("\n", "\r\n")).encode(), "systems.yaml", "aws", RECORD
    )
    assert edit.new is not None
    assert edit.new.startswith("\ufeff".encode())
    assert b"\n" not in edit.new.replace(b"\r\n", b"")
    assert b"    extracts:\r\n      - file: extracts/aws/" in edit.new


def test_the_same_entry_again_is_no_change_and_a_different_one_is_refused() -> None:
    new, line = register(
        "kind: systems\nsystems:\n  - id: aws\n    name: AWS\n    sox_in_scope: true\n"
    )
    again = _register(new.encode(), "systems.yaml", "aws", RECORD)
    assert again.new is None
    assert again.line == line
    changed = {**RECORD, "records": 4}
    with pytest.raises(InputError, match=r"systems.yaml:7: extracts/aws/.* already registered"):
        _register(new.encode(), "systems.yaml", "aws", changed)


@pytest.mark.parametrize(
    "extracts",
    [
        "    extracts: [{file: extracts/aws/a.csv}]\n",
        "    extracts:\n      [{file: extracts/aws/a.csv}]\n",
    ],
)
def test_a_layout_it_cannot_edit_is_refused_with_the_entry_to_add(extracts: str) -> None:
    text = (
        "kind: systems\nsystems:\n  - id: aws\n    name: AWS\n    sox_in_scope: true\n" + extracts
    )
    with pytest.raises(RegistrationError) as caught:
        _register(text.encode(), "systems.yaml", "aws", RECORD)
    assert "nothing was written" in str(caught.value)
    assert "- file: extracts/aws/2026-09-20-aws-credential-report.csv" in str(caught.value)


def test_a_system_the_file_does_not_hold_is_refused() -> None:
    with pytest.raises(RegistrationError, match="system aws not found"):
        _register(b"kind: systems\nsystems: []\n", "systems.yaml", "aws", RECORD)
