"""The benchmark's report: each stage's time and memory, and the figures checked against
their targets (printed as tables and written as JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from tabulate import tabulate

from .measure import Stage

TARGETS = {
    "load + validate + evaluate (warm)": ("< 30 s", lambda v: v < 30),
    "load + validate + evaluate (cold)": ("< 30 s", lambda v: v < 30),
    "controlbook check from nothing (s)": ("< 30", lambda v: v < 30),
    "full build with narratives, cold caches (s)": ("< 900", lambda v: v < 900),
    "peak memory, full build (MB)": ("< 4096", lambda v: v < 4096),
    "peak memory, load to evaluate (MB)": ("< 4096", lambda v: v < 4096),
    "SoD conflicts: ours / DuckDB SQL": ("<= 2", lambda v: v <= 2),
    "PDF per document: ours (1 process) / WeasyPrint": ("<= 1.15", lambda v: v <= 1.15),
    "PDF: 1 process / process pool (speed-up)": (">= 1.7", lambda v: v >= 1.7),
    "user access review narrative pages (max)": ("<= 12", lambda v: v <= 12),
    "site: our build / mkdocs build": ("<= 1.3", lambda v: v <= 1.3),
    "site: full size / half size": ("<= 2.2", lambda v: v <= 2.2),
    "rebuild after one control / full build": ("< 0.05", lambda v: v < 0.05),
}


@dataclass(frozen=True)
class Figure:
    """A compared figure: ``value`` is a ratio (or seconds / MB) checked against a target."""

    name: str
    ours: float | None
    baseline: float | None
    value: float

    @property
    def target(self) -> str:
        return TARGETS[self.name][0]

    @property
    def met(self) -> bool:
        return bool(TARGETS[self.name][1](self.value))


@dataclass
class Report:
    stages: list[Stage]
    figures: list[Figure]
    facts: dict[str, object]

    def add(self, stage: Stage) -> None:
        self.stages.append(stage)
        print(f"  {stage.name}: {stage.seconds:.2f} s, peak {stage.peak_mb:.0f} MB", flush=True)

    def table(self) -> str:
        stages = tabulate(
            [
                (s.name, f"{s.seconds:.2f}", f"{s.peak_mb:.0f}", f"{s.children_mb:.0f}", s.note)
                for s in self.stages
            ],
            headers=("stage", "seconds", "peak MB", "children MB", "note"),
        )
        figures = tabulate(
            [
                (
                    f.name,
                    "" if f.ours is None else f"{f.ours:.2f}",
                    "" if f.baseline is None else f"{f.baseline:.2f}",
                    f"{f.value:.3f}",
                    f.target,
                    "met" if f.met else "MISSED",
                )
                for f in self.figures
            ],
            headers=("figure", "ours", "baseline", "value", "target", ""),
        )
        facts = "\n".join(f"{k}: {v}" for k, v in self.facts.items())
        return f"{facts}\n\n{stages}\n\n{figures}"

    def as_json(self) -> str:
        data = {
            "facts": self.facts,
            "stages": [asdict(s) for s in self.stages],
            "figures": [{**asdict(f), "target": f.target, "met": f.met} for f in self.figures],
        }
        return json.dumps(data, indent=2, default=str)
