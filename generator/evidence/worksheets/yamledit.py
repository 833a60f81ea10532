"""Setting ``items_file:`` and adding ``attachments:`` in a review's YAML, keeping the rest.

The file is edited as text, as ``controlbook import`` edits ``systems.yaml``
(:mod:`..importers.register`, whose scalar quoting and block rules this reuses): the
``items_file`` block is replaced (or added after ``evidence:``), new attachment entries
are appended to the list; comments and every other line stay as they were. The result is
parsed again and must hold exactly the intended data, else nothing is written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...catalog.yamlsrc import YamlError, parse_yaml
from ...errors import InputError
from ..catalogwrite import block_end, yaml_scalar


def _lines_of(key: str, value: dict[str, Any]) -> list[str]:
    return [f"{key}:", *(f"  {k}: {yaml_scalar(v)}" for k, v in value.items())]


def _entry_lines(entry: dict[str, Any], dash: int) -> list[str]:
    pairs = list(entry.items())
    first = " " * dash + f"- {pairs[0][0]}: {yaml_scalar(pairs[0][1])}"
    return [first, *(" " * (dash + 2) + f"{k}: {yaml_scalar(v)}" for k, v in pairs[1:])]


def _top_block(lines: list[str], doc: Any, key: str) -> tuple[int, int]:
    """First and last line index of a top-level key's block."""
    start = doc.marks.key((key,)).line - 1
    return start, block_end(lines, start, 1)


def edit_review(
    text: str, shown: str, items_file: dict[str, Any], attachments: list[dict[str, Any]]
) -> str:
    """``text`` with ``items_file`` set and ``attachments`` appended (none twice)."""

    def refuse(why: str) -> InputError:
        by_hand = "\n".join(
            [*_lines_of("items_file", items_file), "attachments:"]
            + [line for entry in attachments for line in _entry_lines(entry, 2)]
        )
        return InputError(
            f"{shown}: {why}; nothing was written. Record the decisions by hand, or fix the "
            f"file and collect again:\n{by_hand}"
        )

    if re.search("[\x0b\x0c\x85\u2028\u2029]", text):
        raise refuse("unusual line breaks")
    newline = "\r\n" if "\r\n" in text else "\n"
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        raise refuse(f"line {exc.mark.line}: {exc.message}") from None
    data = doc.data
    if not isinstance(data, dict):
        raise refuse("not a mapping")
    expected = json.loads(json.dumps(data, default=str))
    expected["items_file"] = items_file
    known = {a.get("file") for a in data.get("attachments") or [] if isinstance(a, dict)}
    added = [a for a in attachments if a["file"] not in known]
    expected["attachments"] = [*(data.get("attachments") or []), *added]
    expected = json.loads(json.dumps(expected, default=str))

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    block = [line + newline for line in _lines_of("items_file", items_file)]
    if "items_file" in data:
        start, end = _top_block(lines, doc, "items_file")
        lines[start : end + 1] = block
    else:
        after = _top_block(lines, doc, "evidence")[1] if "evidence" in data else len(lines) - 1
        lines[after + 1 : after + 1] = block
    if added:
        text = "".join(lines)
        doc = parse_yaml(text)
        current = doc.data.get("attachments")
        if current is None:
            if "attachments" in doc.data:
                raise refuse("attachments: is empty but not written as a list")
            end = _top_block(lines, doc, "items_file")[1]
            lines[end + 1 : end + 1] = [
                "attachments:" + newline,
                *(line + newline for entry in added for line in _entry_lines(entry, 2)),
            ]
        elif isinstance(current, list) and current:
            mark = doc.marks.value(("attachments", len(current) - 1))
            before = lines[mark.line - 1][: mark.column - 1].rstrip()
            if not before.endswith("-") or before[:-1].strip():
                raise refuse("the last entry under attachments: is not written '- key: value'")
            dash = len(before) - 1
            end = block_end(lines, mark.line - 1, dash + 1)
            lines[end + 1 : end + 1] = [
                line + newline for entry in added for line in _entry_lines(entry, dash)
            ]
        else:
            raise refuse("attachments: is not a list written one entry per line")
    new_text = "".join(lines)
    try:
        reread = json.loads(json.dumps(parse_yaml(new_text).data, default=str))
    except YamlError:
        reread = None
    if reread != expected:
        raise refuse("its layout is unusual and the entries could not be added safely")
    return new_text
