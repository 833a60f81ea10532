"""Setting ``items_file:`` and adding ``attachments:`` in a review's YAML, keeping the rest.

The file is edited as text by :class:`..reviewtext.ReviewText` (as the campaign import
edits it): the ``items_file`` block is replaced (or added after ``evidence:``), new
attachment entries are appended to the list; comments and every other line stay as they
were. The result is parsed again and must hold exactly the intended data, else nothing
is written.
"""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ..catalogwrite import yaml_scalar
from ..reviewtext import ReviewText


def _lines_of(key: str, value: dict[str, Any]) -> list[str]:
    return [f"{key}:", *(f"  {k}: {yaml_scalar(v)}" for k, v in value.items())]


def _entry_lines(entry: dict[str, Any]) -> list[str]:
    """One list entry's lines, without the dash and the indentation (ReviewText adds them)."""
    return [f"{k}: {yaml_scalar(v)}" for k, v in entry.items()]


def edit_review(
    text: str, shown: str, items_file: dict[str, Any], attachments: list[dict[str, Any]]
) -> str:
    """``text`` with ``items_file`` set and ``attachments`` appended (none twice)."""
    try:
        review = ReviewText(text.encode("utf-8"), shown)
        review.set("items_file", _lines_of("items_file", items_file), items_file, after="evidence")
        listed = review.data.get("attachments")
        known = {a.get("file") for a in listed or [] if isinstance(a, dict)}
        added = [a for a in attachments if a["file"] not in known]
        if added:
            review.append("attachments", [_entry_lines(a) for a in added], added)
        return review.result().decode("utf-8")
    except InputError as exc:
        by_hand = "\n".join(
            [*_lines_of("items_file", items_file), "attachments:"]
            + [
                ("  - " if i == 0 else "    ") + line
                for entry in attachments
                for i, line in enumerate(_entry_lines(entry))
            ]
        )
        why = str(exc).removeprefix(f"{shown}: ").removesuffix("; nothing was written")
        raise InputError(
            f"{shown}: {why}; nothing was written. Record the decisions by hand, or fix the "
            f"file and collect again:\n{by_hand}"
        ) from None
