"""Editing a review's YAML file as text: set a top-level key, add entries to a list.

The review imports (an IGA campaign's decisions) and ``review collect`` add
``items_file:``, ``attachments:`` and the sign-off to a review someone wrote by hand;
comments, order and every other line stay as they were, and the new text must read back
as exactly the old data plus the edits, else nothing is written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..catalog.yamlsrc import YamlError, parse_yaml
from ..errors import InputError
from .catalogwrite import block_end


def plain(value: Any) -> Any:
    """``value`` as JSON would hold it (dates as text), to compare what YAML reads back."""
    return json.loads(json.dumps(value, default=str))


class ReviewText:
    """The review file's lines, edited top-level key by key; :meth:`result` parses the new
    text again and refuses it unless it holds exactly the old data plus the edits."""

    def __init__(self, old: bytes, shown: str) -> None:
        self.shown = shown
        self.bom = old.startswith(b"\xef\xbb\xbf")
        try:
            text = old.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{shown}: not UTF-8 text") from None
        if re.search("[\x0b\x0c\x85\u2028\u2029]", text):
            raise InputError(f"{shown}: unusual line breaks")
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith(("\n", "\r")):
            self.lines[-1] += self.newline
        self.data, self.marks = self._parse()
        self.expected = plain(self.data)

    def _parse(self) -> tuple[dict[str, Any], Any]:
        try:
            doc = parse_yaml("".join(self.lines))
        except YamlError as exc:
            raise InputError(f"{self.shown}:{exc.mark.line}: {exc.message}") from None
        if not isinstance(doc.data, dict):
            raise InputError(f"{self.shown}: a review file is a YAML mapping")
        return doc.data, doc.marks

    def _block(self, lines: list[str]) -> list[str]:
        return [line + self.newline for line in lines]

    def set(self, key: str, lines: list[str], value: Any, *, after: str | None = None) -> None:
        """Replace the top-level ``key`` with ``lines``; a new key goes after the block of
        the key ``after`` when there is one, else at the end."""
        self.data, self.marks = self._parse()
        if key in self.data:
            start = self.marks.key((key,)).line - 1
            end = block_end(self.lines, start, 1)
            self.lines[start : end + 1] = self._block(lines)
        elif after is not None and after in self.data:
            end = block_end(self.lines, self.marks.key((after,)).line - 1, 1)
            self.lines[end + 1 : end + 1] = self._block(lines)
        else:
            self.lines.extend(self._block(lines))
        # what the block reads as (a timestamp as YAML reads it), for the final check
        self.expected[key] = plain(parse_yaml("\n".join(lines) + "\n").data[key])

    def append(self, key: str, entries: list[list[str]], values: list[Any]) -> None:
        """Add list entries to the top-level list ``key`` after its last entry."""
        self.data, self.marks = self._parse()
        current = self.data.get(key)
        if not isinstance(current, list) or not current:
            block = [f"{key}:"] + [
                ("  - " if i == 0 else "    ") + line for e in entries for i, line in enumerate(e)
            ]
            self.set(key, block, values)
            return
        mark = self.marks.value((key, len(current) - 1))
        before = self.lines[mark.line - 1][: mark.column - 1].rstrip()
        if not before.endswith("-") or before[:-1].strip():
            raise InputError(
                f"{self.shown}: the last entry under {key}: is not written '- key: value'"
            )
        dash, column = len(before) - 1, mark.column - 1
        after = block_end(self.lines, mark.line - 1, dash + 1)
        block = [
            (" " * dash + "-" + " " * (column - dash - 1) if i == 0 else " " * column) + line
            for e in entries
            for i, line in enumerate(e)
        ]
        self.lines[after + 1 : after + 1] = self._block(block)
        added = parse_yaml(
            "".join(f"- {e[0]}\n" + "".join(f"  {x}\n" for x in e[1:]) for e in entries)
        ).data
        self.expected[key] = [*self.expected[key], *plain(added)]

    def result(self) -> bytes:
        text = "".join(self.lines)
        try:
            reread = json.loads(json.dumps(parse_yaml(text).data, default=str))
        except YamlError:
            reread = None
        if reread != self.expected:
            raise InputError(
                f"{self.shown}: its layout is unusual and the review could not be edited "
                "safely; nothing was written"
            )
        return ("\ufeff" if self.bom else "").encode() + text.encode()
