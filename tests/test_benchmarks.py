"""Smoke test of the benchmark: the generator makes a valid, deterministic catalog with the
gaps it promises, and ``benchmarks.run`` completes every stage on a small size.

Timings are not checked here (they live in ``benchmarks/README.md``); only that every
figure is produced and the evaluation has no internal error.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.make_catalog import generate
from benchmarks.measure import tree_mb
from benchmarks.report import TARGETS
from benchmarks.synthetic.spec import Spec
from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import INTERNAL_ERROR, evaluate

ROOT = Path(__file__).resolve().parents[1]
SMALL = Spec(
    controls=20,
    people=300,
    systems=4,
    accounts=400,
    entitlement_rows=2000,
    reviews_per_control=4,
    seed=7,
)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_the_generated_catalog_is_valid_deterministic_and_has_gaps(tmp_path: Path) -> None:
    generate(SMALL, tmp_path / "a")
    generate(SMALL, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    catalog = load_catalog(tmp_path / "a", strict=True)
    assert (len(catalog.controls), len(catalog.systems)) == (20, 4)
    assert len(catalog.reviews) >= 20 * 4 * 0.9
    assert catalog.rulesets, "SoD rule sets are generated"
    assert catalog.exceptions, "SoD exceptions are generated"
    evaluation = evaluate(catalog)
    rules = Counter(f.rule for f in evaluation.open)
    assert INTERNAL_ERROR not in rules
    assert len(rules) >= 5, f"gaps of several kinds, got {dict(rules)}"
    other = replace(SMALL, seed=8)
    generate(other, tmp_path / "c")
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")


def test_the_generator_refuses_sizes_that_cannot_make_a_catalog(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"1\.\.5 x systems"):
        generate(replace(SMALL, controls=21), tmp_path / "x")


@pytest.mark.slow
def test_the_benchmark_runs_every_stage_on_a_small_catalog(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.run", "--work", str(tmp_path)]
    command += ["--json", str(figures), "--controls", "20", "--people", "300"]
    command += ["--systems", "4", "--accounts", "400", "--entitlement-rows", "2000"]
    command += ["--pdf-sample", "2", "--jobs", "2"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,  # a guard against a hang, not a speed target (those live in benchmarks/)
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(figures.read_text())
    assert {f["name"] for f in data["figures"]} == set(TARGETS)
    assert all(f["value"] > 0 for f in data["figures"])
    assert data["facts"]["ERR-1 findings"] == 0
    assert data["facts"]["controls"] == 20
    assert "rebuild after one control changed" in result.stdout
    timeline = (tmp_path / "build-full.memory.tsv").read_text().splitlines()
    assert timeline[0] == "seconds\tcommand MB\ttree MB\ttree PSS MB"
    rows = [line.split("\t") for line in timeline[1:]]
    samples = [tuple(map(float, row[:3])) for row in rows]
    assert samples
    assert max(tree for _, _, tree in samples) > 0
    assert all(own <= tree for _, own, tree in samples)
    split = [float(row[3]) for row in rows if row[3]]  # taken again when several processes
    assert all(value > 0 for value in split)


FORKING = """
import os, sys
ballast = b"x" * (64 << 20)  # 64 MB, shared with the child below
child = os.fork()
if child == 0:
    sys.stdin.read()  # waits to be measured
    os._exit(0)
print(os.getpid(), child, flush=True)
sys.stdin.read()
os.waitpid(child, 0)
"""


def test_a_tree_that_shares_pages_is_counted_once() -> None:
    """A child forked from a process shares its pages: resident sizes count them twice,
    proportional sizes once. (The fork happens in a single-threaded interpreter of its
    own: forking the test's process, which has threads, is deprecated.)"""
    with subprocess.Popen(
        [sys.executable, "-c", FORKING], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stdin is not None
        try:
            parent, child = map(int, process.stdout.readline().split())
            own, total, shared = tree_mb([parent, child], peak=0.0)
            assert total > own + 60  # the child's resident size counts the 64 MB again
            assert shared is not None
            assert shared < total - 30  # split between the two, counted once
            assert tree_mb([parent, child], peak=10.0**9)[2] is None  # no new peak: not walked
        finally:
            process.stdin.close()
