"""An audit sample as text (how it was drawn, then the items) or as a CSV test workpaper."""

from __future__ import annotations

import csv
import io

from ..evaluation.sampling import ATTRIBUTES, Sample
from .cells import safe_cell

COLUMNS = (
    "rank", "review", "account", "entitlement", "decision", "decided_by", "decided_at",
    *ATTRIBUTES, "source", "sha256(seed+key)", "key",
)  # fmt: skip


def header(sample: Sample) -> list[str]:
    """How the sample was drawn, so anyone can draw it again."""
    return [
        f"control: {sample.control}",
        f"period: {sample.period}",
        f"population: {sample.population_size} review items, sha256 {sample.population_sha256} "
        "(keys sorted, one per line)",
        f"seed: {sample.seed}",
        f"method: {sample.method}",
        f"sample: {sample.size} item(s)",
    ]


def render_text(sample: Sample) -> str:
    lines = [*header(sample), ""]
    for item in sample.items:
        what = item.account + (f" ({item.entitlement})" if item.entitlement else "")
        lines.append(
            f"{item.rank:>3}. {item.review} {what}: {item.decision or 'no decision'} by "
            f"{item.decided_by or 'nobody'} at {item.decided_at or 'no date'}  [{item.source}]"
        )
        for attribute, result in item.attributes:
            lines.append(f"       {attribute}: {result}")
    return "\n".join(lines) + "\n"


def render_csv(sample: Sample) -> str:
    """The test workpaper: one row per sampled item, pre-filled from the evaluation, every
    cell formula-safe; the drawing method in ``#`` lines above the header."""
    out = io.StringIO()
    for line in header(sample):
        out.write(f"# {line}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in sample.items:
        row = (
            item.rank, item.review, item.account, item.entitlement, item.decision,
            item.decided_by, item.decided_at, *(result for _, result in item.attributes),
            str(item.source), item.digest, item.key,
        )  # fmt: skip
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
