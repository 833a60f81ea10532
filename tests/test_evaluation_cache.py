"""The as-of evaluation is kept across builds and is exactly what a fresh evaluation returns.

Every test compares the result of :class:`EvaluationCache` with :func:`evaluate` run on a
catalog loaded afresh: findings (with their file, line and column), waivers, notes, and
the run's facts. Near misses: a title edited on its own line is served from the cache; a
title that grows a line moves every finding below it, and is evaluated again; so are
two keys that swap lines, an owner, a date, an extract row or an items CSV line.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation import evalcache
from generator.evaluation.evalcache import EvaluationCache
from generator.evaluation.evaluate import INTERNAL_ERROR, Evaluation, evaluate
from generator.evaluation.findings import Gap
from generator.evaluation.rules import RULES, Rule
from generator.evaluation.trendcache import catalog_digest, catalog_digests
from generator.evidence.extracts import ExtractStore
from generator.model import Severity
from generator.publish.build import build
from tests.test_trend_cache import CHANGES, EXAMPLES, edit

CONTROL = "controls/ITGC-CHG-01.yaml"
TITLE = "title: Change approval before production deployment\n"


def facts(evaluation: Evaluation) -> tuple[Any, ...]:
    """Everything an evaluation returns but its context (the views derive from that)."""
    e = evaluation
    return (e.organisation, e.as_of, e.period, e.findings, e.not_assessed, e.rules, e.controls)


def fresh(folder: Path) -> Evaluation:
    return evaluate(load_catalog(folder))


def cached(folder: Path, cache_dir: Path) -> tuple[Evaluation, EvaluationCache]:
    cache = EvaluationCache(cache_dir)
    return cache.evaluate(load_catalog(folder)), cache


@pytest.mark.parametrize("example_path", EXAMPLES, ids=lambda p: p.name)
def test_an_evaluation_served_from_the_cache_equals_a_fresh_one(
    example_path: Path, tmp_path: Path
) -> None:
    first, cache = cached(example_path, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (0, 1)
    again, cache = cached(example_path, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (1, 0)
    expected = fresh(example_path)
    assert facts(again) == facts(first) == facts(expected)
    assert again.findings  # the examples have findings: the comparison compares something
    assert any(not f.is_open for f in again.findings) or example_path.name != "controls"
    assert again.context is not None
    assert tuple(again.context.catalog.controls) == expected.controls


def test_a_title_edited_on_its_line_is_served_from_the_cache(example: Path, tmp_path: Path) -> None:
    cached(example, tmp_path / "cache")
    edit(example / CONTROL, TITLE, "title: Changes approved before they reach production\n")
    again, cache = cached(example, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (1, 0)
    assert facts(again) == facts(fresh(example))


def own3(evaluation: Evaluation) -> tuple[str, int, int]:
    """Where the example's OWN-3 finding of ITGC-CHG-01 points (below the title)."""
    found = [f for f in evaluation.findings if f.rule == "OWN-3" and f.control == "ITGC-CHG-01"]
    assert len(found) == 1
    loc = found[0].location
    return Path(loc.file).name, loc.line, loc.column


def test_a_title_that_grows_a_line_moves_the_findings_below_it_and_is_evaluated_again(
    example: Path, tmp_path: Path
) -> None:
    before, _ = cached(example, tmp_path / "cache")
    folded = "title: >-\n  Change approval before\n  production deployment\n"
    edit(example / CONTROL, TITLE, folded)
    again, cache = cached(example, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (0, 1)
    assert facts(again) == facts(fresh(example))
    name, line, column = own3(before)
    assert own3(again) == (name, line + 2, column)  # a stale entry would point 2 lines too high


def test_two_keys_that_swap_lines_of_the_same_shape_change_where_findings_point(
    example: Path,
) -> None:
    """``system_owner: k.dubois`` and ``iam_operator: iam-team`` have the same length: only
    the document's keys in order tell the two files apart."""
    catalog = load_catalog(example)
    records, positions = catalog_digests(catalog, ExtractStore(catalog))
    text = (example / CONTROL).read_text(encoding="utf-8")
    one, two = "  system_owner: k.dubois\n", "  iam_operator: iam-team\n"
    assert one + two in text
    (example / CONTROL).write_text(text.replace(one + two, two + one), encoding="utf-8")
    swapped = load_catalog(example)
    again = catalog_digests(swapped, ExtractStore(swapped))
    assert again[0] == records  # what the rules read is the same
    assert positions is not None
    assert again[1] is not None
    assert again[1] != positions
    roles = [c.controls["ITGC-CHG-01"].roles for c in (catalog, swapped)]
    lines = [r.loc("system_owner").line for r in roles if r is not None]
    assert lines[1] == lines[0] + 1


@pytest.mark.parametrize("example_path", EXAMPLES, ids=lambda p: p.name)
def test_the_records_digest_is_the_trend_key_s_so_the_trend_may_take_it(
    example_path: Path,
) -> None:
    catalog = load_catalog(example_path)
    records, positions = catalog_digests(catalog, ExtractStore(catalog))
    assert records == catalog_digest(catalog, ExtractStore(catalog))
    assert positions is not None
    assert positions != records


@pytest.mark.parametrize("change", CHANGES, ids=lambda name: name.replace(" ", "-"))
def test_a_change_a_rule_reads_is_evaluated_again(
    change: str, example: Path, tmp_path: Path
) -> None:
    cached(example, tmp_path / "cache")
    CHANGES[change](example)
    again, cache = cached(example, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (0, 1)
    assert facts(again) == facts(fresh(example))


def test_another_as_of_date_is_another_entry(example: Path, tmp_path: Path) -> None:
    cache = EvaluationCache(tmp_path / "cache")
    catalog = load_catalog(example)
    earlier = cache.evaluate(catalog, date(2026, 6, 30))
    later = cache.evaluate(catalog, None)
    assert (cache.hits, cache.misses) == (0, 2)
    assert facts(earlier) == facts(evaluate(load_catalog(example), date(2026, 6, 30)))
    assert facts(later) == facts(fresh(example))
    assert facts(earlier) != facts(later)


def _swap_body(entry: Path, old: bytes, new: bytes) -> None:
    """The entry with its JSON changed and its recorded SHA-256 left as it was."""
    digest, _, body = entry.read_bytes().partition(b"\n")
    assert old in body
    entry.write_bytes(digest + b"\n" + body.replace(old, new, 1))


DAMAGE = {
    "truncated": lambda e: e.write_bytes(e.read_bytes()[:200]),
    "empty": lambda e: e.write_bytes(b""),
    "not an entry": lambda e: e.write_bytes(b"not json at all"),
    "a line number altered": lambda e: _swap_body(e, b'"line":19', b'"line":91'),
    "another entry's key": lambda e: _rekey(e),
}


def _rekey(entry: Path) -> None:
    """A whole, sound entry, but for another key (its SHA-256 written anew)."""
    body = entry.read_bytes().partition(b"\n")[2]
    assert entry.stem.encode() in body
    body = body.replace(entry.stem.encode(), b"0" * 64)
    entry.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda name: name.replace(" ", "-"))
def test_a_damaged_entry_is_evaluated_again_and_written_again(
    damage: str, example: Path, tmp_path: Path
) -> None:
    cached(example, tmp_path / "cache")
    (entry,) = (tmp_path / "cache").glob("*.json")
    DAMAGE[damage](entry)
    again, cache = cached(example, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (0, 1)
    assert facts(again) == facts(fresh(example))
    _, cache = cached(example, tmp_path / "cache")
    assert cache.hits == 1  # written again, whole


def test_an_evaluation_in_which_a_rule_crashed_is_not_kept(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(ctx: Any) -> list[Gap]:
        raise RuntimeError("a bug")

    broken = (*RULES, Rule("TST-9", "Crashes", "test", Severity.LOW, "", crash))
    monkeypatch.setattr(
        evalcache,
        "evaluate",
        lambda catalog, day, extracts: evaluate(catalog, day, rules=broken, extracts=extracts),
    )
    result, cache = cached(example, tmp_path / "cache")
    assert any(f.rule == INTERNAL_ERROR for f in result.findings)
    assert not list((tmp_path / "cache").glob("*.json"))
    _, cache = cached(example, tmp_path / "cache")
    assert (cache.hits, cache.misses) == (0, 1)


def test_a_cache_folder_that_cannot_be_written_only_costs_the_evaluation(
    example: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    result, _ = cached(example, blocked / "evaluation")
    assert facts(result) == facts(fresh(example))
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_only_the_newest_entries_are_kept(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evalcache, "KEPT", 2)
    cache = EvaluationCache(tmp_path / "cache")
    catalog = load_catalog(example)
    for day in (date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)):
        cache.evaluate(catalog, day)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    cache.evaluate(catalog, date(2026, 5, 31))
    assert cache.hits == 1  # the newest survived


@pytest.mark.slow
def test_build_evaluates_again_only_when_something_a_rule_reads_changed(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[date] = []

    def counted(catalog: Any, day: date, extracts: Any) -> Evaluation:
        calls.append(day)
        return evaluate(catalog, day, extracts=extracts)

    monkeypatch.setenv("CONTROLBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(evalcache, "evaluate", counted)
    site = tmp_path / "site"
    build(example, site, pdfs=False)
    edit(example / CONTROL, TITLE, "title: Changes approved before they reach production\n")
    second = build(example, site, pdfs=False)
    assert len(calls) == 1
    assert facts(second.evaluation) == facts(fresh(example))
    CHANGES["an owner"](example)
    third = build(example, site, pdfs=False)
    assert len(calls) == 2
    assert facts(third.evaluation) == facts(fresh(example))
