"""How a pydantic validation error reads to a control owner, for every catalog reader
(the YAML files and the review items CSV word their errors alike)."""

from __future__ import annotations

from typing import Any

from ..diagnostics import invisible_characters


def friendly_error(error: dict[str, Any]) -> str:
    """Turn a pydantic error into a sentence a control owner can act on."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if "0-9a-f]{64}" in pattern:
            return f"{value!r} is not a sha256 digest (64 lowercase hex characters)"
        hidden = invisible_characters(str(value))
        if hidden:
            return (
                f"{value!r} is not a valid ID: it contains {', '.join(hidden)}, which "
                "shows as nothing or reorders the text around it"
            )
        return f"{value!r} is not a valid ID (use letters, digits and . _ : @ / + -)"
    if kind.startswith("date_"):
        return f"{value!r} is not a date (write YYYY-MM-DD)"
    if kind.startswith("datetime_"):
        return f"{value!r} is not a date and time (write YYYY-MM-DDTHH:MM:SSZ)"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if kind in ("value_error", "missing", "extra_forbidden"):
        return message
    if isinstance(value, (str, int, float, bool)) or value is None:
        return f"{message[0].lower()}{message[1:]} (got {value!r})"
    return f"{message[0].lower()}{message[1:]}"
