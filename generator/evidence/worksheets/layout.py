"""The worksheet's columns, its About fields and the row checksum, shared by writer and reader."""

from __future__ import annotations

import hashlib

try:  # the items file layout (issue 19, items_file:), once the model defines it
    from ...model.reviews import ITEMS_COLUMNS  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until then, the same tuple
    ITEMS_COLUMNS = (
        "account", "system", "entitlement", "decision", "decided_by", "decided_at", "comment",
        "remediation_ticket", "remediation_completed",
    )  # fmt: skip

SHEET = "Review"
"""The sheet with the rows to decide (the first sheet: what a CSV export of it holds)."""
ABOUT = "About"
"""The sheet naming the review, the decider and the extract the worksheet was issued for."""

CONTEXT = (
    "system", "account", "person", "name", "department", "status", "account_type",
    "entitlement", "routed", "source", "check",
)  # fmt: skip
"""Read-only columns: the item, its holder and why it is on this worksheet."""
DECISION, COMMENT = "decision", "comment"
COLUMNS = (*CONTEXT, DECISION, COMMENT)
DECISIONS = ("keep", "revoke", "modify")

REVIEW_KEY, DECIDER_KEY, EXTRACT_KEY, SHA_KEY = "review", "decider", "extract", "extract_sha256"
ABOUT_KEYS = (REVIEW_KEY, DECIDER_KEY, EXTRACT_KEY, SHA_KEY)
"""The About fields collect reads back (the others are for the people reading it)."""

UNROUTED = "_unrouted.csv"


def checksum(review_id: str, system: str, account: str, entitlement: str) -> str:
    """The row's ``check``: the first 16 hex digits of the sha256 of the review ID, system,
    account and entitlement, joined by newlines. A changed account or entitlement cell no
    longer matches it, even in a sheet whose protection was removed. It is a check against
    edits, not a signature: collect also requires the row to be one issued to the decider."""
    text = "\n".join((review_id, system, account, entitlement))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
