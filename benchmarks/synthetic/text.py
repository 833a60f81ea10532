"""Writing the generated files: YAML scalars that read back as written, and atomic text files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@:-]*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def scalar(value: str | int | bool | date | datetime) -> str:
    """One YAML scalar: plain when that reads back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date | int):
        return str(value) if isinstance(value, int) else value.isoformat()
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED and not value.endswith(":"):
        return value
    return json.dumps(value, ensure_ascii=False)


def flow(values: Iterable[str]) -> str:
    """A YAML flow list: ``[a, b]``."""
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def write_text(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` (without newlines) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
